# R's hist() counts, the binning Guyot's algorithm uses for censoring times (survHE digitise()).
# Run: Rscript hist-refs.R  (writes hist-counts-R-4.2.2.json beside this script)
# Cases: tied breaks (two digitised points at one time), values on a break, values within the
# fuzz (1e-7 of a bin) of a break, the fewer-than-6-breaks rules of hist.default's fuzz.
library(jsonlite)
cases <- list(
  list(x = c(0, 0.5, 1, 1.5, 2, 2.5, 3), breaks = c(0, 1, 2, 2, 3)),
  list(x = c(1.445), breaks = c(0, 2.89)),
  list(x = c(3.115), breaks = c(2.89, 2.94, 3.02, 3.02, 3.21, 3.43, 4.77)),
  list(x = c(1, 2, 3), breaks = c(0, 1, 2, 3)),
  list(x = c(1 + 1e-9, 2 - 1e-9, 2 + 1e-9), breaks = c(0, 1, 2, 3, 4, 5, 6)),
  list(x = c(1 + 1e-9, 2 + 1e-9), breaks = c(0, 1, 2, 3)),
  list(x = c(5, 5, 5), breaks = c(5, 5, 5, 5)),
  list(x = seq(0.1, 9.9, length.out = 25), breaks = c(0, 0.5, 0.5, 3, 7, 7, 7, 9.2, 10)),
  list(x = c(4, 4.0000001, 4.000001), breaks = c(2, 4, 4, 6, 8))
)
out <- lapply(cases, function(cs) {
  list(x = cs$x, breaks = cs$breaks, counts = hist(cs$x, breaks = cs$breaks, plot = FALSE)$counts)
})
writeLines(toJSON(list(r_version = R.version.string, cases = out), digits = NA, auto_unbox = FALSE,
                  pretty = TRUE), "hist-counts-R-4.2.2.json")
