# Edge cases for livermet.evidence.glmm with metafor's DEFAULT settings (rma.glmm(measure = "PLO"),
# no control argument: glmer's bobyqa stage 1, Nelder-Mead stage 2, tolPwrss 1e-7), each with
# nAGQ = 7 and 1 and some with nAGQ = 2, 3, 15. The data are what a meta-analyst may meet: k = 2,
# all or most series with 0 (or n) events, n = 1 series, n of 10000+, n from 5 to 5000, logits from
# -4 to 4, identical proportions (tau^2 = 0), data on which glmer's Nelder-Mead ends with theta in
# (0, 1e-5) so that check.boundary decides (found by a search over set.seed(1:600), k = 4..7,
# n ~ U{20..100}, p = 0.3, refitting glmer with boundary.tol = 0), and moderators: a continuous one
# of ~1e6, one of ~1e-5 (crossprod(X) then has an eigenvalue below metafor's evtol = 1e-7), a 0/1
# dummy, two nearly collinear ones, one constant except in one series, and intercept-free models
# (rma.glmm(..., intercept = FALSE): metafor then does not scale X); and six data sets from a
# random hunt (see below).
# Run from this directory:  Rscript glmm-edge-defaults.R  (writes glmm-edge-defaults.json; the
# tests never call R). metafor 3.8-1, lme4 1.1-31, R 4.2.2.
#
# Per case: beta (all), se, tau2, QE_Wld, QE_LRT, I2, ll (fit.stats["ll", "ML"]) as %.17g strings;
# or error = TRUE with R's message; warnings = R's warnings. For diagnosis: stage1_theta (theta
# after glmer's nAGQ = 0 stage, from the devfun environment of glmer(..., devFunOnly = TRUE) as in
# glmm-refs.R), stage1_beta (pp$delb there), x_fit (columns of the X.fit metafor passes to glmer,
# from rma.glmm(retdat = TRUE)) and final_par = c(theta, fixef) of metafor's glmer fit in X.fit's
# scaling.
suppressMessages({library(metafor); library(lme4); library(jsonlite)})
f17 <- function(v) ifelse(is.na(v), "NaN", sprintf("%.17g", v))  # NA (and NaN) stored as "NaN"

stage1 <- function(x, n, mods, intercept, nagq) {
  d <- try(suppressWarnings(if (is.null(mods)) rma.glmm(measure = "PLO", xi = x, ni = n, retdat = TRUE)
    else rma.glmm(measure = "PLO", xi = x, ni = n, mods = mods, intercept = intercept,
                  retdat = TRUE)), silent = TRUE)
  if (inherits(d, "try-error")) return(NULL)
  dat.grp <- d$dat.grp; X.fit <- d$X.fit; study <- d$study; dat.off <- d$dat.off
  dev2 <- try(suppressWarnings(suppressMessages(glmer(dat.grp ~ -1 + X.fit + (1 | study),
    offset = dat.off, family = binomial, nAGQ = nagq, devFunOnly = TRUE))), silent = TRUE)
  if (inherits(dev2, "try-error")) return(list(stage1_error = conditionMessage(attr(dev2, "condition"))))
  pp <- environment(dev2)$pp
  list(stage1_theta = f17(pp$theta), stage1_beta = f17(pp$delb),
       x_fit = unname(lapply(seq_len(ncol(X.fit)), function(j) f17(X.fit[, j]))))
}

fit_case <- function(name, x, n, mods = NULL, intercept = TRUE, nagq = 7, note = "") {
  warns <- character(0)
  r <- try(withCallingHandlers(
    if (is.null(mods)) rma.glmm(measure = "PLO", xi = x, ni = n, nAGQ = nagq, retfit = TRUE)
    else rma.glmm(measure = "PLO", xi = x, ni = n, mods = mods, intercept = intercept,
                  nAGQ = nagq, retfit = TRUE),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") }),
    silent = TRUE)
  out <- list(name = name, note = note, x = x, n = n,
              mods = if (is.null(mods)) NULL else unname(lapply(seq_len(ncol(mods)), function(j) mods[, j])),
              intercept = intercept, nagq = nagq, warnings = as.list(unique(warns)))
  out <- c(out, stage1(x, n, mods, intercept, nagq))
  if (inherits(r, "try-error")) {
    return(c(out, list(error = TRUE, message = conditionMessage(attr(r, "condition")))))
  }
  c(out, list(error = FALSE, beta = f17(c(r$beta)), se = f17(r$se), tau2 = f17(r$tau2),
              QE_Wld = f17(r$QE.Wld), QE_LRT = f17(r$QE.LRT), I2 = f17(r$I2),
              ll = f17(r$fit.stats["ll", "ML"]),
              final_par = f17(c(getME(r$res.ML, "theta"), fixef(r$res.ML)))))
}

cases <- list()
add <- function(name, x, n, mods = NULL, intercept = TRUE, nagq = c(7, 1), note = "") {
  for (q in nagq) cases[[length(cases) + 1]] <<- fit_case(name, x, n, mods, intercept, q, note)
}

# k = 2
add("k2", c(3, 10), c(20, 25), nagq = c(7, 1, 2, 3, 15))
add("k2_equal_props", c(5, 10), c(50, 100))
add("k2_zero", c(0, 4), c(10, 30))
add("k2_both_zero", c(0, 0), c(10, 30))
# all / most series with 0 or n events
add("all_zero", c(0, 0, 0, 0), c(10, 20, 15, 30))
add("all_n", c(10, 20, 15, 30), c(10, 20, 15, 30))
add("most_zero", c(0, 0, 0, 0, 0, 1), c(12, 20, 15, 30, 25, 40), nagq = c(7, 1, 3))
add("most_zero_k8", c(0, 0, 0, 2, 0, 0, 0, 1), c(8, 15, 22, 40, 11, 9, 30, 25))
add("most_n", c(12, 20, 15, 29, 25, 40), c(12, 20, 15, 30, 25, 40))
add("one_zero_rest_n", c(0, 20, 15, 30, 25), c(10, 20, 15, 30, 25))
# series of one patient
add("n1_all", c(0, 1, 0, 0, 1, 1, 0), c(1, 1, 1, 1, 1, 1, 1))
add("n1_mixed", c(1, 5, 8, 0, 3), c(1, 20, 30, 1, 15), nagq = c(7, 1, 2))
# very large and very different n
add("large_n", c(120, 260, 95, 610), c(10000, 25000, 12000, 50000), nagq = c(7, 1, 15))
add("large_n_het", c(500, 2600, 95, 9000, 40), c(10000, 25000, 12000, 50000, 20000))
add("diff_n", c(1, 1500, 3, 900, 2), c(5, 5000, 8, 3000, 6))
add("diff_n_zero", c(0, 250, 1, 40), c(5, 5000, 6, 800))
# extreme heterogeneity: logits -4 .. 4
add("extreme_het", round(50 * plogis(c(-4, -2, 0, 2, 4))), rep(50, 5), nagq = c(7, 1, 2, 3, 15))
set.seed(31)
nh <- sample(30:200, 10, TRUE)
add("extreme_het_k10", rbinom(10, nh, plogis(seq(-4, 4, length.out = 10))), nh, note = "set.seed(31)")
# tau^2 exactly 0: identical proportions
add("identical_props", c(10, 20, 30, 40), c(50, 100, 150, 200))
add("identical_props_k8", rep(c(3, 6, 9, 12), 2), rep(c(10, 20, 30, 40), 2))
# Nelder-Mead ends with theta in (0, 1e-5) (search: see the header)
nb <- function(s) { set.seed(s); k <- sample(4:7, 1); n <- sample(20:100, k, TRUE)
                    list(x = rbinom(k, n, 0.3), n = n) }
for (s in c(361, 392, 395, 406, 472, 545)) {
  d <- nb(s); add(sprintf("near_boundary_seed%d", s), d$x, d$n, note = sprintf("set.seed(%d)", s))
}
# moderators
set.seed(41)
k <- 10; nm <- sample(20:150, k, TRUE)
big <- round(runif(k, 0.5e6, 2e6))
xm <- rbinom(k, nm, plogis(-1 + 0.8e-6 * (big - 1.2e6) + rnorm(k, 0, 0.3)))
add("mod_huge", xm, nm, mods = cbind(big), note = "set.seed(41)")
add("mod_tiny", xm, nm, mods = cbind(big * 1e-11), note = "1e-11 x mod_huge's moderator")
dummy <- rep(c(0, 1), length.out = k)
add("mod_dummy", xm, nm, mods = cbind(dummy))
add("mod_dummy_huge", xm, nm, mods = cbind(dummy, big))
x1 <- seq(1, 10, length.out = k); x2 <- x1 + c(0.01, -0.02, 0.015, 0, -0.01, 0.02, -0.015, 0.005, 0, -0.005)
add("mod_collinear", xm, nm, mods = cbind(x1, x2))
add("mod_one_differs", xm, nm, mods = cbind(c(rep(2, k - 1), 3)))
add("mod_one_differs_dummy", xm, nm, mods = cbind(c(rep(0, k - 1), 1)))
# intercept-free models (no scaling in metafor)
add("noint_two_groups", xm, nm, mods = cbind(1 - dummy, dummy), intercept = FALSE)
add("noint_continuous", xm, nm, mods = cbind(x1), intercept = FALSE)
add("noint_dummy_only", xm, nm, mods = cbind(dummy), intercept = FALSE)

# found by a random hunt (set.seed(2026); k = 2..8, n log-uniform on 1..5000, a moderator of
# mixed scale rounded with signif(, 8) in 40% of them; 250 data sets, nAGQ 7 and 1): the data
# sets on which livermet differed from metafor, for the reasons given in the test module.
add("hunt_sat_glm_diverges", c(5, 2390, 718, 30, 8, 6, 23, 89), c(27, 4721, 2261, 44, 61, 26, 34, 919),
    mods = cbind(c(245380.47, 2.5613676, 483388.2, 337201.9, 0, 1, 0, 0)))
add("hunt_sparse_mod", c(11, 903, 0, 37, 3, 18, 0), c(28, 950, 4, 166, 9, 548, 2),
    mods = cbind(c(-0.61995438, 1.062185, 1, 0, 0, -0.34929711, 502185.11)))
add("hunt_devresid_negative", c(1099, 245, 349, 0), c(1925, 303, 432, 2),
    mods = cbind(c(631564.82, -0.29776452, 0.42323287, 0.95510551)))
add("hunt_hessian_not_pd", c(361, 0, 7, 0), c(1116, 2, 512, 65),
    mods = cbind(c(0, -0.52848619, 0, 857780.63)))
add("hunt_fe_glm_start", c(4, 23, 2724, 0, 0), c(6, 436, 2867, 110, 81))
add("hunt_mod_tau2", c(308, 407, 409, 14, 9, 118, 5), c(651, 4115, 414, 15, 10, 121, 5),
    mods = cbind(c(0, 251269.3, 0, 417117.84, 348875.26, 0, 1)))

out <- list(generated_by = "glmm-edge-defaults.R", metafor = as.character(packageVersion("metafor")),
            lme4 = as.character(packageVersion("lme4")), R = R.version$version.string, cases = cases)
write_json(out, "glmm-edge-defaults.json", digits = NA, auto_unbox = TRUE, null = "null", pretty = TRUE)
cat(length(cases), "cases;", sum(sapply(cases, function(c) c$error)), "errors\n")
