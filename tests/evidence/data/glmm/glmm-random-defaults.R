# Reference values for livermet.evidence.glmm with metafor's DEFAULT settings on 60 random data
# sets (k = 3 to 15, n = 5 to 80, true tau from 0 to 1.5; the first is a hypothesis example where
# glmer's default stops 1.6e-4 short in log-likelihood), each with nAGQ = 7 and 1.
# Run from this directory:  Rscript glmm-random-defaults.R  (writes glmm-random-defaults.json;
# the tests never call R). metafor 3.8-1, lme4 1.1-31, R 4.2.2.
suppressMessages({library(metafor); library(jsonlite)})
set.seed(777); out <- list()
for (i in 1:60) {
  k <- sample(3:15, 1); n <- sample(5:80, k, replace=TRUE); p <- plogis(rnorm(1, -0.5, 1) + rnorm(k, 0, runif(1, 0, 1.5)))
  x <- rbinom(k, n, p)
  if (i == 1) { x <- c(1,8,10,1,1); n <- c(9,26,11,14,16) }
  for (q in c(7, 1)) {
    r <- try(suppressWarnings(rma.glmm(measure="PLO", xi=x, ni=n, nAGQ=q)), silent=TRUE)
    out[[length(out)+1]] <- if (inherits(r, "try-error")) list(x=x, n=n, nagq=q, error=TRUE) else
      list(x=x, n=n, nagq=q, error=FALSE, beta=sprintf("%.17g", r$beta[1]), se=sprintf("%.17g", r$se), tau2=sprintf("%.17g", r$tau2))
  }
}
writeLines(toJSON(out, auto_unbox=TRUE, digits=NA), "glmm-random-defaults.json")
