# glmer tightened (bobyqa, rhoend 1e-12) on Table 1's 5-year survivors plus three series of 0 or n
# events (0/10, 10/10, 0/1), nAGQ = 1. lme4's Laplace deviance takes its log determinant from the
# penultimate IRLS iterate, which for such series is still far from the mode, so even tightened
# glmer maximises a slightly different function from the exact Laplace approximation.
# Run from this directory:  Rscript laplace-zero-n-tight.R  (writes laplace-zero-n-tight.json;
# the tests never call R). lme4 1.1-31, R 4.2.2.
suppressMessages({library(lme4); library(jsonlite)})
xi <- c(1,3,13,13,31,10,12,9,23,32, 0,10,0); ni <- c(12,15,42,27,98,31,27,21,47,62, 10,10,1)
s <- factor(seq_along(xi))
m <- glmer(cbind(xi, ni - xi) ~ 1 + (1 | s), family = binomial, nAGQ = 1,
           control = glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
writeLines(toJSON(list(xi = xi, ni = ni, nagq = 1, beta = sprintf("%.17g", fixef(m)[[1]]),
                       tau2 = sprintf("%.17g", VarCorr(m)$s[1]),
                       se = sprintf("%.17g", sqrt(vcov(m)[1, 1]))),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE), "laplace-zero-n-tight.json")
