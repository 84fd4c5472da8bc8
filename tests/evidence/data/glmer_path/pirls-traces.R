# Reference traces of lme4's glmer deviance functions (PIRLS state carried between calls).
#
# R 4.2.2, lme4 1.1-31, minqa, jsonlite. Run from this folder:
#   Rscript pirls-traces.R   -> pirls-traces.json
#
# For each dataset the script repeats glmer()'s own steps for
#   glmer(cbind(xi, ni - xi) ~ 0 + X + (1 | study), family = binomial, nAGQ = nAGQ)
# with the default glmerControl() (glFormula -> mkGlmerDevfun -> optimizeGlmer stage 1 (bobyqa)
# -> updateGlmerDevfun -> optimizeGlmer stage 2 (Nelder_Mead)), but with each deviance function
# wrapped so that EVERY call (argument and value) is recorded, in order. The wrapper shares the
# deviance function's environment, so the optimisers see exactly what glmer gives them.
# Recorded besides: the state after mkGlmerDevfun (lp0, delb, delu), the state after stage 1
# (pp$delb, diag(pp$unsc()), pp$delu, pp$theta) and the final estimates, which are checked to be
# identical to glmer()'s own fit.
# Numbers are written as strings with %.17g (round-trip exact).
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

f17 <- function(v) sprintf("%.17g", as.numeric(v))

wrap <- function(devfun, slot) {
  rho <- environment(devfun)
  inner <- paste0(".inner_", slot)
  assign(inner, devfun, envir = rho)
  rec <- new.env()
  rec$calls <- list()
  rho[[paste0(".rec_", slot)]] <- rec
  fn <- eval(bquote(function(pars) {
    val <- .(as.name(inner))(pars)
    r <- .(as.name(paste0(".rec_", slot)))
    r$calls[[length(r$calls) + 1L]] <- list(args = f17(pars), value = f17(val))
    val
  }))
  environment(fn) <- rho
  fn
}

trace_one <- function(xi, ni, X, nAGQ) {
  dat <- data.frame(xi = xi, ni = ni, study = factor(seq_along(xi)))
  dat$X <- X
  control <- glmerControl()
  glmod <- glFormula(cbind(xi, ni - xi) ~ 0 + X + (1 | study), data = dat, family = binomial)
  glmod$formula <- NULL
  devfun <- do.call(mkGlmerDevfun, c(glmod, list(verbose = 0L, control = control, nAGQ = 0L)))
  rho <- environment(devfun)
  init <- list(lp0 = f17(rho$lp0), delb = f17(rho$pp$delb), delu = f17(rho$pp$delu))
  w1 <- wrap(devfun, "s1")
  opt1 <- optimizeGlmer(w1, optimizer = control$optimizer[[1]], restart_edge = FALSE,
                        boundary.tol = 0, control = control$optCtrl, start = NULL,
                        nAGQ = 0, verbose = 0L, calc.derivs = FALSE)
  after1 <- list(theta = f17(rho$pp$theta), delb = f17(rho$pp$delb),
                 unsc_diag = f17(diag(rho$pp$unsc())), delu = f17(rho$pp$delu),
                 opt_par = f17(opt1$par))
  devfun2 <- updateGlmerDevfun(devfun, glmod$reTrms, nAGQ = nAGQ)
  lp0_2 <- f17(rho$lp0)
  w2 <- wrap(devfun2, "s2")
  start <- lme4:::updateStart(NULL, theta = opt1$par)
  opt2 <- optimizeGlmer(w2, optimizer = control$optimizer[[2]],
                        restart_edge = control$restart_edge,
                        boundary.tol = control$boundary.tol, control = control$optCtrl,
                        start = start, nAGQ = nAGQ, verbose = 0L, stage = 2,
                        calc.derivs = control$calc.derivs,
                        use.last.params = control$use.last.params)
  fit <- glmer(cbind(xi, ni - xi) ~ 0 + X + (1 | study), data = dat, family = binomial,
               nAGQ = nAGQ)
  same <- identical(unname(c(getME(fit, "theta"), fixef(fit))), unname(opt2$par))
  if (!same) stop("replayed glmer steps differ from glmer()")
  list(init = init,
       stage1 = rho$.rec_s1$calls,
       after_stage1 = after1,
       lp0_stage2 = lp0_2,
       stage2 = rho$.rec_s2$calls,
       opt2_par = f17(opt2$par),
       opt2_value = f17(opt2$fval))
}

table1_x <- c(1, 3, 13, 13, 31, 10, 12, 9, 23, 32)
table1_n <- c(12, 15, 42, 27, 98, 31, 27, 21, 47, 62)
year <- c(1990, 1981, 2001, 1986, 1995, 1984, 2004, 1988, 1998, 1993)
datasets <- list(
  table1 = list(xi = table1_x, ni = table1_n, X = cbind(1)),
  zero_events = list(xi = replace(table1_x, 1, 0), ni = table1_n, X = cbind(1)),
  all_events = list(xi = replace(table1_x, 1, 12), ni = table1_n, X = cbind(1)),
  moderator = list(xi = table1_x, ni = table1_n, X = cbind(1, scale(year))),
  homogeneous = list(xi = c(5, 6, 5, 7, 6, 5), ni = c(50, 55, 48, 60, 52, 51), X = cbind(1)),
  large_series = list(xi = c(15, 40, 120, 60, 300, 7), ni = c(700, 900, 1500, 640, 2600, 16),
                      X = cbind(1))
)

out <- list(lme4 = as.character(packageVersion("lme4")), R = R.version.string, datasets = list())
for (nm in names(datasets)) {
  d <- datasets[[nm]]
  X <- d$X[rep(1, length(d$xi)), , drop = FALSE]
  if (ncol(d$X) > 1) X <- d$X
  X <- unname(X)
  ds <- list(xi = d$xi, ni = d$ni, X = lapply(seq_len(ncol(X)), function(j) f17(X[, j])),
             runs = list())
  for (q in c(1L, 7L)) {
    ds$runs[[paste0("nAGQ", q)]] <- c(list(nAGQ = q), trace_one(d$xi, d$ni, X, q))
  }
  out$datasets[[nm]] <- ds
}
# A hand-made call sequence on sparse data that drives PIRLS into step halving (stage 2 at
# theta = 3 and 10 with beta = 12): every value recorded, nAGQ = 7.
halving_one <- function(xi, ni, thetas1, pars2, nAGQ) {
  dat <- data.frame(xi = xi, ni = ni, study = factor(seq_along(xi)))
  dat$X <- matrix(1, length(xi), 1)
  glmod <- glFormula(cbind(xi, ni - xi) ~ 0 + X + (1 | study), data = dat, family = binomial)
  glmod$formula <- NULL
  devfun <- do.call(mkGlmerDevfun, c(glmod, list(verbose = 0L, control = glmerControl(),
                                                 nAGQ = 0L)))
  s1 <- lapply(thetas1, function(t) list(args = f17(t), value = f17(devfun(t))))
  devfun2 <- updateGlmerDevfun(devfun, glmod$reTrms, nAGQ = nAGQ)
  s2 <- lapply(pars2, function(p) list(args = f17(p), value = f17(devfun2(p))))
  list(nAGQ = nAGQ, stage1 = s1, stage2 = s2)
}
hx <- c(4, 2, 0, 0, 0, 10, 5)
hn <- c(89, 78, 56, 60, 103, 118, 10)
pars2 <- list()
for (t in c(3, 10, 20, 60)) for (b in c(3, -6, 12, -15)) pars2[[length(pars2) + 1L]] <- c(t, b)
out$halving <- c(list(xi = hx, ni = hn),
                 halving_one(hx, hn, c(1, 3, 10, 0, 30, 0.5), pars2, 7L))

gh <- lapply(1:25, function(k) {
  g <- lme4:::GHrule(k)
  list(z = f17(g[, 1]), w = f17(g[, 2]), ldnorm = f17(g[, 3]))
})
out$GHrule <- gh
writeLines(toJSON(out, auto_unbox = TRUE, pretty = FALSE), "pirls-traces.json")
