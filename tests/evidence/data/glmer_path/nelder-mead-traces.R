# Reference traces for livermet.evidence.glmer_nelder_mead (lme4's Nelder_Mead, as glmer's second
# stage calls it). Run from this directory:  Rscript nelder-mead-traces.R  (writes
# nelder-mead-traces.json; the tests never call R).
#
# Each case runs lme4::Nelder_Mead(fn, par, lower, upper, control = list(xst = ..., xt = xst * 5e-4))
# as optwrap() does for glmer's stage 2 (FtolAbs etc. left at lme4's defaults) on a function with a
# closed form that the Python tests code identically, and stores every evaluated point, the
# returned par, fval, feval and the convergence code.
suppressMessages({library(lme4); library(jsonlite)})

fns <- list(
  quad2 = function(p) (p[1] - 0.3)^2 * 40 + (p[2] + 0.5)^2 * 3 + (p[1] - 0.3) * (p[2] + 0.5) * 2,
  rosen2 = function(p) 100 * (p[2] - p[1]^2)^2 + (1 - p[1])^2,
  bound2 = function(p) (p[1] + 0.2)^2 * 10 + (p[2] - 1)^2,
  quart3 = function(p) (p[1] - 0.1)^4 + (p[1] - 0.1)^2 + 5 * (p[2] + 1)^2 + (p[3] - 2)^2 * 0.5 + 0.3 * p[2] * p[3],
  devlike4 = function(p) {
    w <- c(2.5, 7.1, 3.3, 11.2, 5.0); c0 <- c(0.4, 1.9, 0.2, 3.1, 0.7)
    eta <- p[2] + p[3] * c(-1, -0.5, 0, 0.5, 1) + p[4] * c(0, 1, 0, 1, 1)
    sum(log(1 + p[1]^2 * w)) + sum((c0 - eta)^2 / (1 / w + p[1]^2))
  }
)
starts <- list(
  quad2 = list(par = c(1, 1), lower = c(0, -Inf), xst = 0.2 * c(0.1, 0.3)),
  rosen2 = list(par = c(0.5, 0.2), lower = c(0, -Inf), xst = 0.2 * c(0.1, 0.5)),
  bound2 = list(par = c(0.05, 0.4), lower = c(0, -Inf), xst = 0.2 * c(0.1, 0.2)),
  quart3 = list(par = c(0.3, 0, 1), lower = c(0, -Inf, -Inf), xst = 0.2 * c(0.1, 0.25, 0.4)),
  devlike4 = list(par = c(0.3, 0.5, 0.2, -0.1), lower = c(0, -Inf, -Inf, -Inf), xst = 0.2 * c(0.1, 0.15, 0.3, 0.3))
)
out <- list()
for (nm in names(fns)) {
  s <- starts[[nm]]; tr <- list()
  f <- function(p) { tr[[length(tr) + 1]] <<- sprintf("%.17g", p); fns[[nm]](p) }
  n <- length(s$par)
  r <- lme4::Nelder_Mead(f, s$par, lower = s$lower, upper = rep(Inf, n),
                         control = list(xst = s$xst, xt = s$xst * 5e-4))
  out[[nm]] <- list(start = sprintf("%.17g", s$par), lower = s$lower, xst = sprintf("%.17g", s$xst),
                    points = tr, par = sprintf("%.17g", r$par), fval = sprintf("%.17g", r$fval),
                    feval = r$feval, convergence = r$convergence, NM_result = r$NM.result)
}
writeLines(toJSON(list(generated_by = "nelder-mead-traces.R",
                       lme4 = as.character(packageVersion("lme4")), cases = out),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE), "nelder-mead-traces.json")
