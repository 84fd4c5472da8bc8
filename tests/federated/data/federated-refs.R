# Reference numbers from R survival for livermet's federated analyses stratified by site.
# Usage: Rscript federated-refs.R ../../analysis/data/cohort.csv cohort-sites.csv OUT.json
# The site of each patient is fixed in cohort-sites.csv (H1: one patient; H2: four patients,
# no death; H3: no laparoscopic case), so R and the tests see the same split.
suppressMessages({library(survival); library(jsonlite)})
a <- commandArgs(TRUE)
d <- merge(read.csv(a[1]), read.csv(a[2]), by="id")
d$approach <- factor(d$approach, levels=c("open","laparoscopic"))
d$timing <- factor(d$timing, levels=c("metachronous","synchronous"))
ctl <- coxph.control(eps=1e-14, iter.max=50, toler.chol=1e-15)
cx <- coxph(Surv(os_months, death) ~ approach + timing + age + grade + strata(site), data=d,
            ties="efron", control=ctl)
cs <- summary(cx)
lr <- survdiff(Surv(os_months, death) ~ approach + strata(site), data=d)
lr_df <- length(lr$n) / length(unique(d$site))
out <- list(
  r_version=R.version.string, survival_version=as.character(packageVersion("survival")),
  sites=as.list(table(d$site)),
  cox_strata_site=list(
    terms=rownames(cs$coefficients), coef=unname(cs$coefficients[, "coef"]),
    se=unname(cs$coefficients[, "se(coef)"]), hr=unname(cs$conf.int[, "exp(coef)"]),
    hr_lower=unname(cs$conf.int[, "lower .95"]), hr_upper=unname(cs$conf.int[, "upper .95"]),
    p=unname(cs$coefficients[, "Pr(>|z|)"]), loglik=cx$loglik,
    concordance=unname(cx$concordance["concordance"]), n=cx$n, events=cx$nevent),
  logrank_approach_strata_site=list(
    chisq=lr$chisq, df=1, p=pchisq(lr$chisq, 1, lower.tail=FALSE),
    observed=unname(rowSums(as.matrix(lr$obs))), expected=unname(rowSums(as.matrix(lr$exp))))
)
write_json(out, a[3], auto_unbox=TRUE, digits=NA, pretty=TRUE)
