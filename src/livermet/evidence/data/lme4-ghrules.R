# lme4 1.1-31's Gauss-Hermite rules GHrule(1) .. GHrule(100), written to lme4-ghrules.json.
#
# Where the numbers come from: lme4:::fgq_rules, the list of 100 rules stored in lme4's
# R/sysdata.rda (lme4 1.1-31, source commit 1de5c0af, 2022-10-31). lme4's GHrule(ord), R/GHrule.R,
# returns fgq_rules[[ord]] unchanged as columns z (nodes) and w (weights), plus
# ldnorm = dnorm(z, log = TRUE); glmerAGQ (src/external.cpp) uses these nodes and weights for
# nAGQ > 1. The rules are fastGHQuad's gaussHermiteData(n), rescaled to the standard normal
# density (z = x sqrt(2), w / sum(w)), but not recomputable from fastGHQuad to the last bit (see
# the comment in GHrule.R), so they are copied here from lme4 itself. livermet reads this file
# (livermet.evidence.glmer_pirls.gh_rule) and recomputes ldnorm as R's dnorm does.
#
# Every number is printed with sprintf("%.17g"), which a binary64 reader (Python's float, JSON
# parsers) turns back into the same double; before writing, the script checks that the text reads
# back as the same doubles in R and that GHrule(n)'s z and w are identical to fgq_rules[[n]].
#
# Run from this directory (R 4.2.2, lme4 1.1-31):  Rscript lme4-ghrules.R
# The tests never call R; they read the JSON.
suppressMessages(library(lme4))
stopifnot(packageVersion("lme4") == "1.1.31")
rules <- lme4:::fgq_rules
stopifnot(length(rules) == 100L)
num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
body <- vapply(seq_along(rules), function(n) {
  r <- rules[[n]]
  g <- GHrule(n)
  stopifnot(length(r$z) == n, identical(unname(g[, "z"]), r$z), identical(unname(g[, "w"]), r$w))
  # the %.17g text must read back as the same doubles
  stopifnot(identical(as.numeric(sprintf("%.17g", r$z)), r$z),
            identical(as.numeric(sprintf("%.17g", r$w)), r$w))
  sprintf('    {"n": %d,\n     "z": %s,\n     "w": %s}', n, num(r$z), num(r$w))
}, "")
head <- sprintf(paste0('{\n  "generated_by": "lme4-ghrules.R",\n  "source": "lme4:::fgq_rules (sysdata.rda), ',
                       'GHrule(n) columns z and w",\n  "lme4": "%s",\n  "R": "%s",\n  "rules": [\n'),
                as.character(packageVersion("lme4")), R.version$version.string)
writeLines(paste0(head, paste(body, collapse = ",\n"), "\n  ]\n}"), "lme4-ghrules.json")
cat("wrote lme4-ghrules.json:", length(rules), "rules\n")
