#pragma once
// Dated GPU prices (presets/data/prices/<provider>.json) and the energy assumptions of budget reports
// (presets/data/prices/energy.json), plus the parsing of dollar amounts given on the command line.
//
// Every price preset carries the date it was read and its row in shared/reference/cloud-prices.json;
// a price given as a number is marked "user" and has no date. Amounts are US dollars: "2.5", "$2.5",
// "2.5 USD", "2.5 USD/GPU-hour", "$1.5M"; any other currency is an error that says so.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/budget.hpp"

namespace clustersim::presets {

struct PricePreset {
  sim::Price price;
  std::vector<std::string> aliases;
  std::string provider;
  std::string gpu;                // GPU preset name ("h100-sxm")
  bool default_for_gpu = false;   // the price `plan` and `report` use for this GPU when none is given
  std::string file;
};

// Every bundled price, sorted by name.
const std::vector<PricePreset>& price_presets();

// A price preset by name or alias, or a dollar amount per GPU-hour ("2.5", "$2.5", "2.5 USD/GPU-hour").
Expected<sim::Price> find_price(std::string_view name_or_amount, const std::string& path = "plan.price");

// The default price for a GPU preset name, if one is marked.
std::optional<sim::Price> default_price_for_gpu(std::string_view gpu);

// A US-dollar amount: a number with an optional "$" / "USD" and an optional k, M or B multiplier.
Expected<double> parse_usd(std::string_view text, const std::string& path);

// A plain positive-or-not number in any C notation ("5.9e23"); the error names `path`.
Expected<double> parse_number(std::string_view text, const std::string& path);

// The bundled energy assumptions (PUE, grid intensity, utilisation, node overhead).
sim::EnergyAssumptions default_energy();

nlohmann::json price_to_json(const sim::Price& p);
nlohmann::json energy_to_json(const sim::EnergyAssumptions& e);

}  // namespace clustersim::presets
