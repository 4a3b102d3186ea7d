#pragma once
// Numbers and layouts as a budget owner reads them ("70.4B", "$1,968,123", "23.4 days", "241 MWh"),
// shared by the report writers and `clustersim plan`.
#include <string>

#include "strategies/layout.hpp"

namespace clustersim::report {

std::string count(double v);          // 70.4B, 1.29T, 512M, 8.19k, 950
std::string scientific(double v);     // 5.88e23
std::string money(double usd);        // $1,968,123 ; $842.50
std::string grouped(double v);        // 1,234,567 (rounded to an integer)
std::string duration_days(double d);  // 23.4 days ; 5.2 hours
std::string energy(double kwh);       // 241 MWh ; 845 kWh
std::string mass_co2(double kg);      // 94.1 t ; 805 kg
std::string percent(double fraction); // 41.3 %
std::string layout(const strategies::LayoutSpec& l);  // tp 8, pp 4, dp 16, sp, mb 1, 1f1b, ZeRO 1, recompute selective

}  // namespace clustersim::report
