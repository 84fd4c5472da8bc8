# metafor 3.8-1 rma.glmm(measure = "PLO") with its DEFAULT settings and many quadrature points:
# nAGQ = 26, 50 and 100 (lme4 1.1-31's GHrule has rules 1 to 100; mkGlmerDevfun's "nAGQ <= 25"
# applies to its own argument only, which glmer sets to 0 for the first stage, so glmer's second
# stage runs with any rule up to 100). Data: Table 1's 5-year survivors (round(S n), as
# glmm-refs.R), extreme heterogeneity (logits -4 .. 4, as glmm-edge-defaults.R), very large n
# (as glmm-edge-defaults.R) and a 0/1 moderator (set.seed(41), as glmm-edge-defaults.R's
# mod_dummy); plus two data sets metafor cannot fit or fits with warnings: identical proportions
# (3/10, 6/20, 9/30: "Cannot fit ML model") and six series of one patient (lme4 warns that the
# Hessian is numerically singular).
# Run from this directory:  Rscript glmm-nagq-high.R  (writes glmm-nagq-high.json; the tests
# never call R). metafor 3.8-1, lme4 1.1-31, R 4.2.2.
#
# Per case: beta, se, tau2, QE_Wld, QE_LRT, I2, ll (fit.stats["ll", "ML"]) as %.17g strings, or
# error = TRUE with R's message; warnings = R's warnings (muffled and recorded).
suppressMessages({library(metafor); library(lme4); library(jsonlite)})
stopifnot(packageVersion("metafor") == "3.8.1", packageVersion("lme4") == "1.1.31")
f17 <- function(v) ifelse(is.na(v), "NaN", sprintf("%.17g", v))

fit_case <- function(name, x, n, mods = NULL, nagq) {
  warns <- character(0)
  r <- try(withCallingHandlers(
    if (is.null(mods)) rma.glmm(measure = "PLO", xi = x, ni = n, nAGQ = nagq)
    else rma.glmm(measure = "PLO", xi = x, ni = n, mods = mods, nAGQ = nagq),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") }),
    silent = TRUE)
  out <- list(name = name, x = x, n = n,
              mods = if (is.null(mods)) NULL else unname(lapply(seq_len(ncol(mods)), function(j) mods[, j])),
              nagq = nagq, warnings = as.list(unique(warns)))
  if (inherits(r, "try-error")) {
    return(c(out, list(error = TRUE, message = conditionMessage(attr(r, "condition")))))
  }
  c(out, list(error = FALSE, beta = f17(c(r$beta)), se = f17(r$se), tau2 = f17(r$tau2),
              QE_Wld = f17(r$QE.Wld), QE_LRT = f17(r$QE.LRT), I2 = f17(r$I2),
              ll = f17(r$fit.stats["ll", "ML"])))
}

cases <- list()
add <- function(name, x, n, mods = NULL, nagq = c(26, 50, 100)) {
  for (q in nagq) cases[[length(cases) + 1]] <<- fit_case(name, x, n, mods, q)
}

n1 <- c(12, 15, 42, 27, 98, 31, 27, 21, 47, 62)
s1 <- c(0.12, 0.2, 0.3, 0.49, 0.32, 0.318, 0.46, 0.42, 0.484, 0.518)
add("table1_os5", round(s1 * n1), n1)
add("extreme_het", round(50 * plogis(c(-4, -2, 0, 2, 4))), rep(50, 5))
add("large_n", c(120, 260, 95, 610), c(10000, 25000, 12000, 50000))
set.seed(41)
k <- 10; nm <- sample(20:150, k, TRUE)
big <- round(runif(k, 0.5e6, 2e6))
xm <- rbinom(k, nm, plogis(-1 + 0.8e-6 * (big - 1.2e6) + rnorm(k, 0, 0.3)))
add("mod_dummy", xm, nm, mods = cbind(rep(c(0, 1), length.out = k)))
add("identical_props", c(3, 6, 9), c(10, 20, 30), nagq = c(7, 26))
add("n1_all", c(0, 1, 0, 0, 1, 1, 0), c(1, 1, 1, 1, 1, 1, 1), nagq = c(7, 26))

out <- list(generated_by = "glmm-nagq-high.R", metafor = as.character(packageVersion("metafor")),
            lme4 = as.character(packageVersion("lme4")), R = R.version$version.string, cases = cases)
write_json(out, "glmm-nagq-high.json", digits = NA, auto_unbox = TRUE, null = "null", pretty = TRUE)
cat(length(cases), "cases;", sum(sapply(cases, function(c) c$error)), "errors\n")
