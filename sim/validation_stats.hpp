#pragma once
// Error statistics of predictions against measurements: absolute percentage error (APE), its median
// and 90th percentile, and the signed mean (bias: positive = the model over-predicts).
#include <vector>

namespace clustersim::sim {

struct ErrorStats {
  int n = 0;
  double median_ape_pct = 0;
  double p90_ape_pct = 0;
  double mean_signed_pct = 0;
};

// Signed percentage error of a prediction: 100 (predicted - measured) / measured.
double signed_error_pct(double predicted, double measured);

// The q-quantile (0 <= q <= 1) of a sample by linear interpolation between order statistics (Hyndman &
// Fan 1996 type 7, numpy's default); 0 for an empty sample. q = 0.5 is the median.
double percentile(std::vector<double> v, double q);

// Statistics over signed percentage errors. Percentiles by linear interpolation between order
// statistics (the "linear" method of Hyndman & Fan 1996, type 7, numpy's default).
ErrorStats error_stats(const std::vector<double>& signed_errors_pct);

}  // namespace clustersim::sim
