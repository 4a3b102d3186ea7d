#include "presets/prices_json.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "common/format.hpp"
#include "presets/embedded.hpp"

namespace clustersim::presets {

using nlohmann::json;

namespace {

std::string lower(std::string_view s) { return to_lower(s); }
std::string upper(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}
std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

std::string str(const json& j, const char* key) {
  return j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>() : std::string();
}

struct Loaded {
  std::vector<PricePreset> prices;
  sim::EnergyAssumptions energy;
};

// Bundled files are checked by tests/laws (prices and energy); a broken one is a build defect.
Loaded load() {
  Loaded out;
  for (const auto& f : embedded_files()) {
    const std::string path = f.path;
    if (path.rfind("prices/", 0) != 0) continue;
    const json j = json::parse(f.text);
    if (str(j, "kind") == "energy") {
      out.energy.pue = j.at("pue").get<double>();
      out.energy.grid_kg_per_kwh = j.at("grid_kg_per_kwh").get<double>();
      out.energy.utilisation = j.at("utilisation").get<double>();
      out.energy.node_overhead = j.at("node_overhead").get<double>();
      continue;
    }
    const std::string provider = j.at("provider").get<std::string>();
    for (const auto& o : j.at("offers")) {
      PricePreset p;
      p.file = path;
      p.provider = provider;
      p.gpu = o.at("gpu").get<std::string>();
      p.default_for_gpu = o.value("default_for_gpu", false);
      if (o.contains("aliases"))
        for (const auto& a : o.at("aliases")) p.aliases.push_back(a.get<std::string>());
      auto& pr = p.price;
      pr.name = o.at("name").get<std::string>();
      pr.usd_per_gpu_hour = o.at("usd_per_gpu_hour").get<double>();
      pr.date = o.at("price_date").get<std::string>();
      pr.pricing = o.at("pricing").get<std::string>();
      pr.description = provider + " " + o.at("instance").get<std::string>() + " (" +
                       std::to_string(o.at("gpus_per_instance").get<int>()) + " x " + p.gpu + ", " +
                       o.at("region").get<std::string>() + ", " + o.at("pricing_model").get<std::string>() + ")";
      pr.source = o.at("source").get<std::string>();
      out.prices.push_back(std::move(p));
    }
  }
  std::sort(out.prices.begin(), out.prices.end(), [](const auto& a, const auto& b) { return a.price.name < b.price.name; });
  return out;
}

const Loaded& loaded() {
  static const Loaded data = load();
  return data;
}

bool looks_numeric(std::string_view s) {
  const std::string t = trim(s);
  if (t.empty()) return false;
  const unsigned char c = static_cast<unsigned char>(t[0]);
  return std::isdigit(c) || c == '.' || c == '$' || c == '-' || c == '+' || t.rfind("US$", 0) == 0;
}

const std::vector<std::string>& other_currency_symbols() {
  static const std::vector<std::string> symbols = {"\xE2\x82\xAC" /* € */, "\xC2\xA3" /* £ */, "\xC2\xA5" /* ¥ */};
  return symbols;
}

}  // namespace

const std::vector<PricePreset>& price_presets() { return loaded().prices; }

sim::EnergyAssumptions default_energy() { return loaded().energy; }

Expected<double> parse_number(std::string_view text, const std::string& path) {
  const std::string s = trim(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end == s.c_str() || *end != '\0' || !std::isfinite(v))
    return invalid(path, "'" + s + "' is not a number");
  return v;
}

Expected<double> parse_usd(std::string_view text, const std::string& path) {
  std::string s = trim(text);
  const std::string example = " (e.g. 2.5, $2.5, '2.5 USD', $1.5M)";
  if (s.empty()) return invalid(path, "is empty; expected a US-dollar amount" + example);
  for (const auto& sym : other_currency_symbols()) {
    if (s.rfind(sym, 0) == 0 || (s.size() >= sym.size() && s.compare(s.size() - sym.size(), sym.size(), sym) == 0))
      return invalid(path, "currency '" + sym + "' is not supported: amounts are in US dollars (USD)");
  }
  if (s.rfind("US$", 0) == 0) s = trim(s.substr(3));
  else if (s.rfind('$', 0) == 0) s = trim(s.substr(1));
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return invalid(path, "'" + std::string(text) + "' is not a US-dollar amount" + example);
  std::string rest = trim(end);
  if (!rest.empty() && (rest.size() == 1 || rest[1] == ' ' || rest[1] == '/')) {
    const char m = rest[0];
    const double mult = m == 'k' || m == 'K' ? 1e3 : m == 'M' ? 1e6 : m == 'B' ? 1e9 : 0.0;
    if (mult > 0) {
      v *= mult;
      rest = trim(rest.substr(1));
    }
  }
  const std::string u = upper(rest);
  if (!u.empty()) {
    if (u.rfind("USD", 0) == 0) {
      const std::string per = trim(u.substr(3));
      if (!per.empty() && per != "/GPU-HOUR" && per != "/GPU-HR" && per != "/GPU-H" && per != "/GPUH" &&
          per != "/GPU HOUR" && per != "/H" && per != "/HOUR")
        return invalid(path, "unknown unit '" + rest + "'; a price is USD per GPU-hour (e.g. '2.5 USD/GPU-hour')");
    } else {
      std::string word;
      for (char c : rest) {
        if (!std::isalpha(static_cast<unsigned char>(c))) break;
        word += c;
      }
      if (word.size() == 3)
        return invalid(path, "currency '" + word + "' is not supported: amounts are in US dollars (USD)");
      return invalid(path, "unknown unit '" + rest + "' in '" + std::string(text) + "'; expected a US-dollar amount" + example);
    }
  }
  if (!std::isfinite(v)) return invalid(path, "'" + std::string(text) + "' is not a finite amount");
  return v;
}

Expected<sim::Price> find_price(std::string_view name, const std::string& path) {
  if (looks_numeric(name)) {
    auto usd = parse_usd(name, path);
    if (!usd) return usd.error();
    if (!(*usd > 0)) return invalid(path, num(*usd) + " USD per GPU-hour must be positive");
    return sim::Price{"user", *usd, "", "user", "price given on the command line", "user"};
  }
  const std::string key = lower(trim(name));
  std::vector<std::string> names;
  for (const auto& p : price_presets()) {
    if (lower(p.price.name) == key) return p.price;
    for (const auto& a : p.aliases)
      if (lower(a) == key) return p.price;
    names.push_back(p.price.name);
  }
  std::string msg = "unknown price preset '" + std::string(name) + "'";
  const auto close = closest_match(key, names);
  if (!close.empty()) msg += "; did you mean '" + close + "'?";
  msg += " (clustersim plan --list-prices shows all; or give USD per GPU-hour, e.g. 2.5)";
  return invalid(path, msg);
}

std::optional<sim::Price> default_price_for_gpu(std::string_view gpu) {
  const std::string key = lower(gpu);
  for (const auto& p : price_presets())
    if (p.default_for_gpu && lower(p.gpu) == key) return p.price;
  return std::nullopt;
}

json price_to_json(const sim::Price& p) {
  return {{"name", p.name}, {"usd_per_gpu_hour", p.usd_per_gpu_hour}, {"date", p.date}, {"pricing", p.pricing},
          {"description", p.description}, {"source", p.source}};
}

json energy_to_json(const sim::EnergyAssumptions& e) {
  return {{"pue", e.pue}, {"grid_kg_per_kwh", e.grid_kg_per_kwh}, {"utilisation", e.utilisation},
          {"node_overhead", e.node_overhead},
          {"formula", "energy_kwh = gpus x tdp_w x utilisation x node_overhead x hours x pue / 1000; co2_kg = energy_kwh x grid_kg_per_kwh"}};
}

}  // namespace clustersim::presets
