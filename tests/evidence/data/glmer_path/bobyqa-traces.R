# Reference traces of minqa::bobyqa (minqa 1.2.5) with the settings lme4 1.1-31 uses in the
# first stage of glmer: bobyqa(par, fn, lower = 0, upper = Inf, control = list(iprint = 0)),
# i.e. minqa's defaults for npt, rhobeg, rhoend and maxfun.
#
# Every call of fn is recorded, in order. minqa evaluates fn once in R at the start (to check
# the objective), then Powell's Fortran evaluates it `feval` times, then minqa's C++ wrapper
# evaluates it once more at the returned par to report fval. So a trace has feval + 2 entries.
#
# The test functions are written with explicit products and left-to-right additions (no `^`
# other than squaring, no sum(), which accumulates in long double) so that Python computes the
# same bits.
#
# Run from this folder:  Rscript bobyqa-traces.R   (writes bobyqa-traces.json)

suppressMessages(library(minqa))
suppressMessages(library(jsonlite))
stopifnot(packageVersion("minqa") == "1.2.5")

fmt <- function(v) sprintf("%.17g", v)

w_dev <- c(0.5, 1, 2, 4, 8)
c_dev <- c(1, 3, 2, 5, 4)
deviance_like <- function(t) {
  s <- 0
  for (i in seq_along(w_dev)) {
    u <- 1 + t * t * w_dev[i]
    s <- s + log(u)
    s <- s + c_dev[i] / u
  }
  s
}

funs <- list(
  quad_03 = function(t) (t - 0.3) * (t - 0.3),
  quad_far_25 = function(t) (t - 25) * (t - 25) + 1,
  quad_near0 = function(t) (t - 1e-3) * (t - 1e-3),
  quad_bound = function(t) (t + 0.5) * (t + 0.5),
  quartic_07 = function(t) { u <- (t - 0.7) * (t - 0.7); u * u + 0.1 * u },
  quartic_pure_2 = function(t) { u <- (t - 2) * (t - 2); u * u },
  flat = function(t) 1e-10 * ((t - 0.5) * (t - 0.5)) + 3,
  linear_up = function(t) t + 1,
  cosh_15 = function(t) cosh(t - 1.5),
  log_barrier = function(t) t - log(t + 0.01),
  hyperbola_3 = function(t) sqrt(1 + (t - 3) * (t - 3)),
  gauss_well = function(t) -exp(-((t - 0.4) * (t - 0.4))),
  deviance_like = deviance_like,
  wavy = function(t) sin(3 * t) + 0.1 * t * t,
  double_well = function(t) { u <- t * t - 4; u * u + t },
  steep_exp = function(t) exp(3 * t) - 5 * t,
  sqrt_cusp = function(t) sqrt(sqrt(1e-4 + (t - 1.3) * (t - 1.3))),
  rosen_1d = function(t) { u <- t * t - 0.5; 100 * (u * u) + (1 - t) * (1 - t) }
)

starts <- list(
  quad_03 = c(1, 0.5, 2),
  quad_far_25 = c(1, 10),
  quad_near0 = c(1, 0.05),
  quad_bound = c(1, 3),
  quartic_07 = c(1, 0.1),
  quartic_pure_2 = c(1),
  flat = c(1),
  linear_up = c(1, 0.02),
  cosh_15 = c(1, 4),
  log_barrier = c(1),
  hyperbola_3 = c(1, 7),
  gauss_well = c(1),
  deviance_like = c(1, 0.2, 5),
  wavy = c(1, 2.5, 4),
  double_well = c(1, 0.3),
  steep_exp = c(1, 3),
  sqrt_cusp = c(1),
  rosen_1d = c(1, 3)
)

run_trace <- function(fn, x0, lower = 0, upper = Inf) {
  pts <- numeric(0)
  vals <- numeric(0)
  f <- function(x) {
    pts[length(pts) + 1] <<- x
    v <- fn(x)
    vals[length(vals) + 1] <<- v
    v
  }
  res <- minqa::bobyqa(x0, f, lower = lower, upper = upper, control = list(iprint = 0))
  list(x0 = fmt(x0), lower = fmt(lower), upper = fmt(upper), points = fmt(pts), values = fmt(vals), par = fmt(res$par),
       fval = fmt(res$fval), feval = as.integer(res$feval), ierr = as.integer(res$ierr))
}

traces <- list()
for (nm in names(funs)) {
  for (x0 in starts[[nm]]) {
    tr <- run_trace(funs[[nm]], x0)
    tr$name <- nm
    traces[[length(traces) + 1]] <- tr
  }
}

# Beyond lme4's settings, to exercise the bound handling: a finite upper bound, a start within
# rhobeg of a bound (moved off it by BOBYQA's entry), a minimum on the upper bound, an infinite
# lower bound, and an objective that is infinite on part of the range (minqa's calfun replaces
# a non-finite value by the largest double).
funs$inf_below_05 <- function(t) if (t < 0.5) Inf else (t - 0.3) * (t - 0.3)
bounded <- list(
  list(name = "quad_03", x0 = 1, lower = 0, upper = 1),
  list(name = "quad_03", x0 = 0.95, lower = 0, upper = 1),
  list(name = "quad_far_25", x0 = 1, lower = 0, upper = 3),
  list(name = "quad_bound", x0 = 1, lower = -Inf, upper = Inf),
  list(name = "quad_bound", x0 = 1, lower = -2, upper = 2),
  list(name = "cosh_15", x0 = 0.1, lower = 0, upper = 1.6),
  list(name = "inf_below_05", x0 = 1, lower = 0, upper = Inf),
  list(name = "quad_03", x0 = 0.5, lower = 0.5, upper = Inf),
  list(name = "quad_03", x0 = 1, lower = 0.9, upper = Inf),
  list(name = "quad_far_25", x0 = 4, lower = 3, upper = 4.5)  # upper - lower < 2 rhobeg
)
for (b in bounded) {
  tr <- suppressWarnings(run_trace(funs[[b$name]], b$x0, b$lower, b$upper))
  tr$name <- b$name
  traces[[length(traces) + 1]] <- tr
}

# A family of wavy functions f(t) = a (t - m)^2 + b sin(c t) + e exp(-t) with parameters drawn
# once here (stored in the JSON with the traces), to vary the trust-region ratios and steps.
set.seed(20091)
family <- list()
for (i in 1:30) {
  p <- list(m = runif(1, 0, 6), a = runif(1, 0.05, 2), b = runif(1, 0, 1.5),
            c = runif(1, 0.5, 5), e = runif(1, 0, 2), x0 = sample(c(0.5, 1, 2, 4), 1))
  fam <- function(t) p$a * ((t - p$m) * (t - p$m)) + p$b * sin(p$c * t) + p$e * exp(-t)
  tr <- run_trace(fam, p$x0)
  tr$name <- "family"
  tr$params <- list(m = fmt(p$m), a = fmt(p$a), b = fmt(p$b), c = fmt(p$c), e = fmt(p$e))
  family[[i]] <- tr
}
# The same family on finite boxes, starting on a bound, near one, or in the middle.
for (i in 31:60) {
  p <- list(m = runif(1, 0, 6), a = runif(1, 0.05, 2), b = runif(1, 0, 1.5),
            c = runif(1, 0.5, 5), e = runif(1, 0, 2))
  lo <- sample(c(0, 0.5, 1, 2.5), 1)
  up <- lo + runif(1, 1.2, 6)
  x0 <- sample(c(lo, lo + 0.1, (lo + up) / 2, up - 0.05, up), 1)
  if (x0 == 0) x0 <- 0.3
  fam <- function(t) p$a * ((t - p$m) * (t - p$m)) + p$b * sin(p$c * t) + p$e * exp(-t)
  tr <- suppressWarnings(run_trace(fam, x0, lo, up))
  tr$name <- "family"
  tr$params <- list(m = fmt(p$m), a = fmt(p$a), b = fmt(p$b), c = fmt(p$c), e = fmt(p$e))
  family[[i]] <- tr
}

# Documentation only: the real stage-1 deviance of glmer for a binomial random-intercept model
# (as metafor's rma.glmm builds it), traced the same way.
suppressMessages(library(lme4))
xi <- c(1, 3, 13, 13, 31, 10, 12, 9, 23, 32)
ni <- c(12, 15, 42, 27, 98, 31, 27, 21, 47, 62)
study <- factor(seq_along(xi))
X <- matrix(1, length(xi), 1)
devfun <- glmer(cbind(xi, ni - xi) ~ 0 + X + (1 | study), family = binomial, nAGQ = 0,
                devFunOnly = TRUE)
lme4_trace <- run_trace(devfun, 1)
lme4_trace$name <- "lme4_stage1_deviance"

out <- list(
  generator = "bobyqa-traces.R",
  r_version = R.version.string,
  minqa_version = as.character(packageVersion("minqa")),
  lme4_version = as.character(packageVersion("lme4")),
  settings = "minqa::bobyqa(x0, fn, lower = 0, upper = Inf, control = list(iprint = 0))",
  deviance_like = list(w = fmt(w_dev), c = fmt(c_dev)),
  traces = traces,
  family = family,
  lme4_stage1 = lme4_trace
)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA), "bobyqa-traces.json")
