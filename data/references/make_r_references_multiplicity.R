# Reference values for multiplicity-adjusted league tables
# (tests/test_multiplicity.py).  Run from this folder:
#   Rscript make_r_references_multiplicity.R
# Writes league_multiplicity_r.csv: eight segments' indices and standard
# errors (fixed numbers, not data), each tested against the total's index
# (z = diff / sqrt(se^2 + se_ref^2), two-sided normal p), and the p-values
# adjusted by R's p.adjust with Holm's method and Benjamini-Hochberg.
ref_est <- 72.0
ref_se <- 0.6
seg <- data.frame(
  segment = c("North", "South", "East", "West", "Centre", "Coast", "Hills", "Islands"),
  est = c(74.1, 70.2, 72.5, 69.0, 73.9, 71.1, 75.8, 72.2),
  se = c(0.9, 0.8, 1.1, 1.0, 0.9, 1.2, 1.5, 2.0)
)
seg$diff <- seg$est - ref_est
seg$z <- seg$diff / sqrt(seg$se^2 + ref_se^2)
seg$pvalue <- 2 * pnorm(-abs(seg$z))
seg$pvalue_holm <- p.adjust(seg$pvalue, method = "holm")
seg$pvalue_fdr_bh <- p.adjust(seg$pvalue, method = "BH")
seg$ref_est <- ref_est
seg$ref_se <- ref_se
write.csv(seg, "league_multiplicity_r.csv", row.names = FALSE)
