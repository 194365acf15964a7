# Reference values for the change of a share between two waves
# (csmlib.analysis.metrics.compare_shares; tests/test_multiplicity.py).
# Run from this folder:  Rscript make_r_references_shares.R
# Writes shares_change_r.csv: for fixed counts (not data), R's
# prop.test(correct = FALSE) (the pooled score z test of equal proportions;
# z is the signed square root of its chi-squared) and Newcombe's (1998,
# method 10) hybrid score interval of the difference p_b - p_a, built here from
# the two Wilson intervals that prop.test(correct = FALSE) reports.
cases <- data.frame(
  case = c("complaints", "top_box", "small", "one_zero"),
  x_a = c(104, 219, 3, 0),
  n_a = c(589, 600, 12, 40),
  x_b = c(98, 181, 7, 4),
  n_b = c(590, 586, 14, 41)
)
rows <- lapply(seq_len(nrow(cases)), function(i) {
  x_a <- cases$x_a[i]; n_a <- cases$n_a[i]; x_b <- cases$x_b[i]; n_b <- cases$n_b[i]
  p_a <- x_a / n_a; p_b <- x_b / n_b
  t <- suppressWarnings(prop.test(c(x_b, x_a), c(n_b, n_a), correct = FALSE))
  w_a <- suppressWarnings(prop.test(x_a, n_a, correct = FALSE))$conf.int
  w_b <- suppressWarnings(prop.test(x_b, n_b, correct = FALSE))$conf.int
  d <- p_b - p_a
  lower <- d - sqrt((p_b - w_b[1])^2 + (w_a[2] - p_a)^2)
  upper <- d + sqrt((w_b[2] - p_b)^2 + (p_a - w_a[1])^2)
  data.frame(case = cases$case[i], x_a = x_a, n_a = n_a, x_b = x_b, n_b = n_b, diff = d,
             z = sign(d) * sqrt(unname(t$statistic)), pvalue = t$p.value,
             ci_lower = lower, ci_upper = upper)
})
write.csv(do.call(rbind, rows), "shares_change_r.csv", row.names = FALSE)
