# Reference values for livermet.evidence.glmm (binomial-normal GLMM, metafor rma.glmm measure="PLO").
# Run from this directory:  Rscript glmm-refs.R   (writes glmm-refs.json and glmm-lme4-path.json;
# the tests never call R)
#
# Each case is fitted with rma.glmm(measure = "PLO", method = "ML") and lme4::glmer underneath,
# with nAGQ = 7 (metafor's default, adaptive Gauss-Hermite quadrature) and/or nAGQ = 1 (Laplace).
# Control "tight": glmer's default optimiser (bobyqa then Nelder-Mead, FtolAbs 1e-5) stops a few
# 1e-6 away from the maximum (Table 1: mu differs by 2.8e-6 from the converged fit), and its
# penalised IRLS (PIRLS, tolPwrss 1e-7) leaves the Laplace deviance with noise of ~1e-8, which
# moves the Laplace optimum by ~1e-6 and its finite-difference Hessian (the SEs) by ~1e-4. Parity
# at 1e-6 is therefore checked against fits with nloptwrap (NLOPT_LN_BOBYQA) at tolerances near
# machine precision and the smallest tolPwrss of 1e-14, 1e-13, 1e-12, 1e-10 at which PIRLS
# converges (1e-10 for tau^2 = 0 on the boundary; the value used is stored per case as tol_pwrss).
# Even so, lme4's Laplace SE for data with 0 or n events keeps errors of 3e-6 to 8e-6 (its log det
# comes from the penultimate PIRLS iterate; test_glmm_parity.py explains the tolerance). Control
# "default" keeps metafor's defaults (the values a metafor user sees, and the numbers quoted in
# issue 14); those are compared at the optimiser's precision, as the tests state.
#
# Every case fitted with control "tight" is also fitted with control "default" at the same nAGQ
# (rma.glmm(measure = "PLO", method = "ML") with no control argument: glmer's bobyqa for the
# nAGQ = 0 first stage, then Nelder-Mead for the nAGQ = 1 / 7 stage, FtolAbs 1e-5, tolPwrss 1e-7).
#
# Cases added with the default-control entries (each tight and default, nAGQ 7 and 1):
#   near_zero_tau2_k5   set.seed(20261202): k = 5, n ~ U{30..120}, events ~ Bin(n, 0.3), a common
#                       probability, so metafor's default fit ends with tau^2 at or near 0.
#   zero_and_n_k8       set.seed(20261203): k = 8, n ~ U{10..80}, logits ~ N(-0.3, 0.5^2); series 2
#                       is then set to 0 events and series 6 to n events.
#   year_k12            set.seed(20261204): k = 12, calendar year ~ U{1990..2020} as the continuous
#                       moderator (large values, so metafor's scaleX = TRUE standardises it in the
#                       X passed to glmer), logit = -0.8 + 0.03 (year - 2005) + N(0, 0.3^2).
#
# glmm-lme4-path.json (written beside glmm-refs.json), one entry per "default" entry (same name
# and nagq), for checking an emulation of glmer's two-stage optimiser path:
#   x_fit            columns of X.fit, the model matrix metafor passes to glmer (intercept column,
#                    non-dummy moderator columns scale()d when scaleX applies); scaled_x says
#                    whether that happened. beta below is in X.fit's scaling.
#   stage1_theta     theta after stage 1 (nAGQ = 0, bobyqa, glmer's default control), read from the
#                    devfun environment of glmer(..., nAGQ = nagq, devFunOnly = TRUE), which runs
#                    stage 1 and returns the stage-2 devfun; stage1_beta = pp$delb there (the
#                    fixed effects stage 2 starts from), stage1_unsc_diag = diag(pp$unsc()).
#                    Stage 1 is also re-run by hand (lme4:::optimizeGlmer on the nAGQ = 0 devfun,
#                    as glmer calls it) for stage1_feval and stage1_deviance; the script stops if
#                    the two stage-1 results disagree.
#   final_par        c(getME(fit, "theta"), fixef(fit)) of metafor's glmer fit (retfit = TRUE);
#                    feval = fit@optinfo$feval; optinfo_val = fit@optinfo$val (lme4 stores the
#                    final parameter vector there, equal to final_par); final_deviance =
#                    fit@devcomp$cmp["dev"], lme4's minimised objective at final_par: for
#                    nAGQ = 1 the full -2 log-likelihood (with the binomial coefficients), for
#                    nAGQ > 1 relative to the saturated model (at tau^2 = 0 it equals the glm's
#                    residual deviance: random_k3 0.6439 vs 13.5177); stage1_deviance is the
#                    nAGQ = 0 objective on the nAGQ = 1 scale; derivs_gradient / derivs_hessian
#                    = fit@optinfo$derivs (lme4's finite-difference derivatives at the end, used
#                    for its convergence check and the SEs); lme4_messages are lme4's
#                    convergence messages, warnings the R warnings raised by rma.glmm.
#                    The script refits glmer itself with the same formula and data and stops if
#                    its theta/fixef differ from metafor's sqrt(tau2)/beta (back-scaled) by > 1e-10.
#
# ll is metafor's fit.stats["ll", "ML"] = ll(saturated glm) - deviance(glmer)/2, where lme4's
# deviance() of a GLMM is the conditional deviance (livermet: GLMMResult.ll_metafor).
#
# QE_Wld_stable: the Wald heterogeneity statistic recomputed from the same saturated glm fit as a
# weighted residual sum of squares (lm.wfit of the fitted logits on X with the glm's working
# weights). metafor computes it as b' V^-1 b in the coding with the last series as reference;
# when that series has 0 or n events its logit is ~ +-25 with variance ~1e10, and the quadratic
# form loses ~1e-6 to cancellation (case all_events). Both values are stored.
suppressMessages({library(metafor); library(lme4); library(jsonlite)})

tight <- function(tol_pwrss) {
  list(glmerCtrl = list(optimizer = "nloptwrap", tolPwrss = tol_pwrss,
    optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, ftol_rel = 1e-15,
                   maxeval = 100000)))
}

warn_log <- list()

fit_glmm <- function(xi, ni, mods, nagq, ctrl, id = NULL) {
  withCallingHandlers(if (is.null(mods)) {
    rma.glmm(measure = "PLO", xi = xi, ni = ni, nAGQ = nagq, control = ctrl, retfit = TRUE)
  } else {
    rma.glmm(measure = "PLO", xi = xi, ni = ni, mods = mods, nAGQ = nagq, control = ctrl,
             retfit = TRUE)
  }, warning = function(w) {
    if (!is.null(id)) warn_log[[id]] <<- c(warn_log[[id]], conditionMessage(w))
    invokeRestart("muffleWarning")
  })
}

# metafor's own glmer inputs (rma.glmm(retdat = TRUE): dat.grp, X.fit, study, dat.off)
glmer_inputs <- function(xi, ni, mods) {
  if (is.null(mods)) rma.glmm(measure = "PLO", xi = xi, ni = ni, retdat = TRUE)
  else rma.glmm(measure = "PLO", xi = xi, ni = ni, mods = mods, retdat = TRUE)
}

lme4_path <- function(name, xi, ni, mods, nagq, r, id) {
  d <- glmer_inputs(xi, ni, mods)
  dat.grp <- d$dat.grp; X.fit <- d$X.fit; study <- d$study; dat.off <- d$dat.off
  ctrl <- lme4::glmerControl()
  form <- dat.grp ~ -1 + X.fit + (1 | study)
  # stage 1 as glmer runs it, then the state stage 2 starts from
  dev2 <- suppressMessages(lme4::glmer(form, offset = dat.off, family = binomial, nAGQ = nagq,
                                       control = ctrl, devFunOnly = TRUE))
  pp <- environment(dev2)$pp
  s1_theta <- pp$theta + 0
  s1_beta <- pp$delb + 0
  s1_unsc <- diag(pp$unsc())
  # stage 1 by hand, for its evaluation count and deviance
  dev0 <- suppressMessages(lme4::glmer(form, offset = dat.off, family = binomial, nAGQ = 0,
                                       control = ctrl, devFunOnly = TRUE))
  opt1 <- lme4:::optimizeGlmer(dev0, optimizer = ctrl$optimizer[[1]], restart_edge = FALSE,
                               boundary.tol = 0, control = ctrl$optCtrl, start = NULL, nAGQ = 0,
                               verbose = 0L, calc.derivs = FALSE)
  pp0 <- environment(dev0)$pp
  stopifnot(max(abs(opt1$par - s1_theta)) == 0, max(abs(pp0$delb - s1_beta)) == 0)
  # glmer refitted here with metafor's formula and data must be metafor's fit
  fit <- suppressMessages(lme4::glmer(form, offset = dat.off, family = binomial, nAGQ = nagq,
                                      control = ctrl))
  m <- r$res.ML
  stopifnot(identical(lme4::fixef(fit), lme4::fixef(m)),
            identical(lme4::getME(fit, "theta"), lme4::getME(m, "theta")))
  b <- lme4::fixef(fit)
  if (ncol(X.fit) > 1) {
    X <- cbind(1, mods)
    is_d <- apply(X, 2, function(v) all(v %in% c(0, 1)))
    sc <- !is_d[-1]
    mx <- colMeans(X[, -1, drop = FALSE]); sx <- apply(X[, -1, drop = FALSE], 2, sd)
    b_orig <- c(b[1] - sum((b[-1] * mx / sx)[sc]), ifelse(sc, b[-1] / sx, b[-1]))
  } else {
    b_orig <- b
  }
  err <- max(abs(b_orig - c(r$beta)), abs(lme4::getME(fit, "theta") - sqrt(r$tau2)))
  if (err > 1e-10) stop(sprintf("%s: own glmer differs from metafor by %g", id, err))
  path_check[[id]] <<- err
  list(
    name = name, control = "default", nagq = nagq,
    scaled_x = !identical(unname(X.fit + 0), unname(cbind(rep(1, length(xi)), mods) + 0)),
    x_fit = unname(lapply(seq_len(ncol(X.fit)), function(j) unname(X.fit[, j]))),
    stage1_theta = unname(s1_theta), stage1_beta = unname(s1_beta),
    stage1_unsc_diag = unname(s1_unsc),
    stage1_feval = opt1$feval, stage1_deviance = opt1$fval,
    final_par = unname(c(lme4::getME(m, "theta"), lme4::fixef(m))),
    feval = m@optinfo$feval,
    optinfo_val = unname(m@optinfo$val),
    final_deviance = unname(m@devcomp$cmp[["dev"]]),
    derivs_gradient = unname(m@optinfo$derivs$gradient),
    derivs_hessian = unname(m@optinfo$derivs$Hessian),
    lme4_messages = as.list(unlist(m@optinfo$conv$lme4$messages)),
    warnings = as.list(unique(unlist(warn_log[[id]])))
  )
}

fit_case <- function(name, xi, ni, mods = NULL, mod_names = NULL, nagq = 7, control = "tight",
                     note = "") {
  tol_pwrss <- NA
  id <- sprintf("%s-nagq%d-%s", name, nagq, control)
  if (control == "tight") {
    for (tol_pwrss in c(1e-14, 1e-13, 1e-12, 1e-10)) {
      warn_log[[id]] <<- NULL
      r <- try(fit_glmm(xi, ni, mods, nagq, tight(tol_pwrss), id), silent = TRUE)
      if (!inherits(r, "try-error")) break
    }
  } else {
    r <- fit_glmm(xi, ni, mods, nagq, list(), id)
    paths[[length(paths) + 1]] <<- lme4_path(name, xi, ni, mods, nagq, r, id)
  }
  X <- cbind(rep(1, length(xi)), mods)
  eta <- predict(r$res.QE)
  wfit <- lm.wfit(X, eta, r$res.QE$weights)
  qe_wld_stable <- sum(r$res.QE$weights * wfit$residuals^2)
  pr_logit <- predict(r)
  pr <- predict(r, transf = transf.ilogit)
  list(
    name = name, note = note, control = control, nagq = nagq, tol_pwrss = tol_pwrss,
    xi = xi, ni = ni,
    mods = if (is.null(mods)) NULL else unname(lapply(seq_len(ncol(mods)), function(j) mods[, j])),
    mod_names = mod_names,
    beta = unname(c(r$beta)), se = unname(r$se), zval = unname(r$zval), pval = unname(r$pval),
    ci_lb = unname(r$ci.lb), ci_ub = unname(r$ci.ub), vb = unname(r$vb),
    tau2 = r$tau2,
    QE_Wld = r$QE.Wld, QE_Wld_stable = qe_wld_stable, QEp_Wld = r$QEp.Wld, QE_LRT = r$QE.LRT, QEp_LRT = r$QEp.LRT,
    QE_df = r$QE.df, QM = r$QM, QMp = r$QMp, I2 = r$I2, H2 = r$H2,
    ll = r$fit.stats["ll", "ML"],
    pred = unname(c(pr_logit$pred)), pred_se = unname(c(pr_logit$se)),
    pred_ci_lb = unname(c(pr_logit$ci.lb)), pred_ci_ub = unname(c(pr_logit$ci.ub)),
    pred_pi_lb = unname(c(pr_logit$pi.lb)), pred_pi_ub = unname(c(pr_logit$pi.ub)),
    prop = unname(c(pr$pred)), prop_ci_lb = unname(c(pr$ci.lb)), prop_ci_ub = unname(c(pr$ci.ub)),
    prop_pi_lb = unname(c(pr$pi.lb)), prop_pi_ub = unname(c(pr$pi.ub))
  )
}

cases <- list()
paths <- list()
path_check <- list()
add <- function(...) cases[[length(cases) + 1]] <<- fit_case(...)
# a tight entry followed by the metafor-default entry of the same case and nAGQ
add2 <- function(name, xi, ni, mods = NULL, mod_names = NULL, nagq = 7, note = "") {
  add(name, xi, ni, mods = mods, mod_names = mod_names, nagq = nagq, note = note)
  add(name, xi, ni, mods = mods, mod_names = mod_names, nagq = nagq, control = "default",
      note = if (note == "") "metafor defaults" else paste0("metafor defaults; ", note))
}

# Table 1, 5-year survival: events = round(S n) (R's round: half to even, as numpy's).
n1 <- c(12, 15, 42, 27, 98, 31, 27, 21, 47, 62)
s1 <- c(0.12, 0.2, 0.3, 0.49, 0.32, 0.318, 0.46, 0.42, 0.484, 0.518)
x1 <- round(s1 * n1)
add("table1_os5", x1, n1, nagq = 7, control = "default", note = "metafor defaults, as the issue")
add("table1_os5", x1, n1, nagq = 7)
add("table1_os5", x1, n1, nagq = 1)
add("table1_os5", x1, n1, nagq = 1, control = "default", note = "metafor defaults, Laplace")

# zero events and all events in some series
add2("zero_events", c(0, 3, 0, 7, 12, 2), c(15, 30, 22, 40, 55, 18), nagq = 7)
add2("zero_events", c(0, 3, 0, 7, 12, 2), c(15, 30, 22, 40, 55, 18), nagq = 1)
add2("all_events", c(10, 25, 19, 33, 14, 40, 8), c(10, 30, 19, 45, 20, 52, 8), nagq = 7)
add2("all_events", c(10, 25, 19, 33, 14, 40, 8), c(10, 30, 19, 45, 20, 52, 8), nagq = 1)
add2("zero_and_all", c(0, 5, 12, 20, 9, 0, 31), c(14, 25, 12, 44, 30, 9, 60), nagq = 7)

# seeded random data, k = 3 ... 20
set.seed(20261201)
for (k in c(3, 4, 6, 9, 13, 20)) {
  ni <- sample(8:150, k, replace = TRUE)
  theta <- rnorm(k, -0.6, 0.6)
  xi <- rbinom(k, ni, plogis(theta))
  add2(sprintf("random_k%d", k), xi, ni, nagq = 7, note = "set.seed(20261201)")
  add2(sprintf("random_k%d", k), xi, ni, nagq = 1, note = "set.seed(20261201)")
}

# homogeneous data: tau^2 estimate on the boundary (0)
add2("homogeneous", c(10, 20, 30, 41), c(40, 80, 120, 160), nagq = 7)

# moderators: one continuous, one factor (3 levels, dummy coded against level "a")
set.seed(7)
k <- 14
ni <- sample(15:120, k, replace = TRUE)
year <- round(runif(k, 1990, 2022))
grp <- rep(c("a", "b", "c"), length.out = k)
eta <- -1 + 0.04 * (year - 2005) + c(a = 0, b = 0.5, c = -0.3)[grp] + rnorm(k, 0, 0.4)
xi <- rbinom(k, ni, plogis(eta))
M <- cbind(year = year, grpb = as.numeric(grp == "b"), grpc = as.numeric(grp == "c"))
add2("mods_continuous", xi, ni, mods = M[, "year", drop = FALSE], mod_names = "year", nagq = 7)
add2("mods_factor", xi, ni, mods = M[, c("grpb", "grpc")], mod_names = c("grpb", "grpc"), nagq = 7)
add2("mods_both", xi, ni, mods = M, mod_names = colnames(M), nagq = 7)
add2("mods_both", xi, ni, mods = M, mod_names = colnames(M), nagq = 1)

# near-homogeneous data: metafor's default fit ends with tau^2 at or near 0
set.seed(20261202)
ni <- sample(30:120, 5, replace = TRUE)
xi <- rbinom(5, ni, 0.3)
for (q in c(7, 1)) add2("near_zero_tau2_k5", xi, ni, nagq = q, note = "set.seed(20261202)")

# k = 8 with one series of 0 events and one of n events
set.seed(20261203)
ni <- sample(10:80, 8, replace = TRUE)
xi <- rbinom(8, ni, plogis(rnorm(8, -0.3, 0.5)))
xi[2] <- 0
xi[6] <- ni[6]
for (q in c(7, 1)) add2("zero_and_n_k8", xi, ni, nagq = q, note = "set.seed(20261203)")

# k = 12, calendar year as a continuous moderator (scaleX standardises it for glmer)
set.seed(20261204)
ni <- sample(20:150, 12, replace = TRUE)
year <- sample(1990:2020, 12, replace = TRUE)
xi <- rbinom(12, ni, plogis(-0.8 + 0.03 * (year - 2005) + rnorm(12, 0, 0.3)))
Y <- cbind(year = year)
for (q in c(7, 1)) {
  add2("year_k12", xi, ni, mods = Y, mod_names = "year", nagq = q, note = "set.seed(20261204)")
}

for (id in names(warn_log)) {
  if (grepl("-default$", id)) cat("R warnings,", id, ":", unique(warn_log[[id]]), sep = "\n  ")
}
cat("max |own glmer - metafor| (beta, sqrt(tau2)) over default entries:",
    format(max(unlist(path_check))), "\n")

out <- list(
  generated_by = "glmm-refs.R",
  metafor = as.character(packageVersion("metafor")),
  lme4 = as.character(packageVersion("lme4")),
  R = R.version$version.string,
  tight_control = "glmerCtrl: optimizer nloptwrap (NLOPT_LN_BOBYQA), xtol_abs 1e-14, ftol_abs 1e-15, xtol_rel 1e-14, ftol_rel 1e-15, tolPwrss 1e-12 (1e-10 where PIRLS fails at 1e-12: see tol_pwrss per case)",
  cases = cases
)
write_json(out, "glmm-refs.json", digits = NA, auto_unbox = TRUE, null = "null", pretty = TRUE)
write_json(list(generated_by = "glmm-refs.R", metafor = out$metafor, lme4 = out$lme4, R = out$R,
                glmer_control = "lme4::glmerControl() defaults (metafor passes no control)",
                cases = paths),
           "glmm-lme4-path.json", digits = NA, auto_unbox = TRUE, null = "null", pretty = TRUE)
