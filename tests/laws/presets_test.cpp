// The bundled law and price presets load, carry their sources, and bad names and amounts are clear errors.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "presets/laws_json.hpp"
#include "presets/prices_json.hpp"

using namespace clustersim;

TEST_CASE("Every bundled law loads, validates and names its sources", "[laws][presets]") {
  const std::set<std::string> required = {"kaplan2020", "chinchilla2022", "chinchilla-epoch2024", "tokens-per-param-20",
                                          "muennighoff2023", "llama3-2024", "deepseek2024"};
  std::set<std::string> seen;
  for (const auto& p : presets::law_presets()) {
    INFO(p.file);
    auto l = presets::find_law(p.name);
    REQUIRE(l.has_value());
    CHECK(l->name == p.name);
    CHECK_FALSE(l->title.empty());
    CHECK_FALSE(l->citation.empty());
    CHECK(p.json.contains("sources"));
    CHECK(l->repetition.has_value());  // every law can answer --unique-tokens
    CHECK(l->hyper.has_value());       // and suggest a batch size
    seen.insert(p.name);
  }
  for (const auto& r : required) CHECK(seen.count(r) == 1);
  CHECK(presets::find_law(presets::kDefaultLaw).has_value());
}

TEST_CASE("Laws are found by alias and case-insensitively", "[laws][presets]") {
  CHECK(presets::find_law("Chinchilla-Refit")->name == "chinchilla-epoch2024");
  CHECK(presets::find_law("kaplan")->name == "kaplan2020");
  CHECK(presets::find_law("llama3")->name == "llama3-2024");
}

TEST_CASE("An unknown law names the field and suggests the closest", "[laws][presets]") {
  auto r = presets::find_law("chinchila2022");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().path == "plan.law");
  CHECK(r.error().message.find("did you mean 'chinchilla2022'") != std::string::npos);
}

TEST_CASE("Law files with bad fields are rejected with the field named", "[laws][presets]") {
  auto base = nlohmann::json::parse(R"({"name": "x", "form": "parametric", "params": "total",
      "loss": {"E": 1.8, "A": 400, "B": 400, "alpha": 0.3, "beta": 0.3}})");
  REQUIRE(presets::law_from_json(base, "laws/x").has_value());
  SECTION("unknown form") {
    base["form"] = "quadratic";
    CHECK(presets::law_from_json(base, "laws/x").error().path == "laws/x.form");
  }
  SECTION("typo in a field") {
    base["loss"]["alpah"] = 0.3;
    auto r = presets::law_from_json(base, "laws/x");
    CHECK(r.error().path == "laws/x.loss.alpah");
    CHECK(r.error().message.find("did you mean 'alpha'") != std::string::npos);
  }
  SECTION("missing constant") {
    base["loss"].erase("B");
    CHECK(presets::law_from_json(base, "laws/x").error().path == "laws/x.loss.B");
  }
  SECTION("constant of the wrong type") {
    base["loss"]["E"] = "1.8";
    CHECK(presets::law_from_json(base, "laws/x").error().path == "laws/x.loss.E");
  }
  SECTION("allocation-only law without a loss to borrow") {
    base["form"] = "tokens-per-param";
    base["tokens_per_param"] = 20;
    CHECK(presets::law_from_json(base, "laws/x").error().path == "laws/x.loss_from");
  }
}

TEST_CASE("Every price preset is dated, sourced and positive; one default per GPU", "[laws][prices]") {
  std::map<std::string, int> defaults;
  std::set<std::string> names;
  for (const auto& p : presets::price_presets()) {
    INFO(p.price.name);
    CHECK(p.price.usd_per_gpu_hour > 0);
    CHECK_FALSE(p.price.date.empty());
    CHECK(p.price.source.find("cloud-prices.json offers[") != std::string::npos);
    CHECK((p.price.pricing == "on-demand" || p.price.pricing == "reserved" || p.price.pricing == "spot"));
    CHECK(names.insert(p.price.name).second);
    if (p.default_for_gpu) ++defaults[p.gpu];
  }
  for (const auto& [gpu, n] : defaults) {
    INFO(gpu);
    CHECK(n == 1);
  }
  for (const char* gpu : {"h100-sxm", "h200", "a100-80gb", "a100-40gb", "b200", "gb200", "mi300x"})
    CHECK(presets::default_price_for_gpu(gpu).has_value());
  // AWS p5.48xlarge on-demand, us-east-1, read 2026-11-09: 55.04 $/h / 8 GPUs = 6.88 $/GPU-hour.
  auto p5 = presets::find_price("aws-p5-on-demand");
  REQUIRE(p5.has_value());
  CHECK(p5->usd_per_gpu_hour == 6.88);
  CHECK(p5->date == "2026-11-09");
  CHECK(presets::find_price("AWS-H100")->name == "aws-p5-on-demand");
}

TEST_CASE("A price given as a number is a dated-nowhere user price", "[laws][prices]") {
  for (const char* text : {"2.5", "$2.5", "2.5 USD", "2.5 usd/GPU-hour", "US$2.5"}) {
    INFO(text);
    auto p = presets::find_price(text);
    REQUIRE(p.has_value());
    CHECK(p->usd_per_gpu_hour == 2.5);
    CHECK(p->name == "user");
    CHECK(p->date.empty());
  }
}

TEST_CASE("Dollar amounts", "[laws][prices]") {
  CHECK(*presets::parse_usd("1e6", "plan.budget") == 1e6);
  CHECK(*presets::parse_usd("$1.5M", "plan.budget") == 1.5e6);
  CHECK(*presets::parse_usd("250k USD", "plan.budget") == 250e3);
  CHECK(*presets::parse_usd("2B", "plan.budget") == 2e9);
}

TEST_CASE("Bad prices and amounts are clear errors", "[laws][prices]") {
  SECTION("unknown currency code") {
    auto r = presets::parse_usd("1e6 EUR", "plan.budget");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().path == "plan.budget");
    CHECK(r.error().message == "currency 'EUR' is not supported: amounts are in US dollars (USD)");
  }
  SECTION("currency symbol") {
    CHECK(presets::parse_usd("\xE2\x82\xAC" "500", "plan.budget").error().message.find("is not supported") !=
          std::string::npos);
  }
  SECTION("not a number") { CHECK_FALSE(presets::parse_usd("lots", "plan.budget").has_value()); }
  SECTION("unknown unit") {
    auto r = presets::parse_usd("5 USD/GPU-year", "plan.price");
    CHECK(r.error().message.find("unknown unit") != std::string::npos);
  }
  SECTION("unknown price preset") {
    auto r = presets::find_price("aws-p5-on-demnd");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().path == "plan.price");
    CHECK(r.error().message.find("did you mean 'aws-p5-on-demand'") != std::string::npos);
  }
  SECTION("zero price") {
    auto r = presets::find_price("0");
    CHECK(r.error().message == "0 USD per GPU-hour must be positive");
  }
  SECTION("negative price") { CHECK_FALSE(presets::find_price("-3").has_value()); }
  SECTION("price in another currency") {
    CHECK(presets::find_price("2.5 GBP").error().message.find("currency 'GBP'") != std::string::npos);
  }
}

TEST_CASE("Energy assumptions come from the bundled preset", "[laws][prices]") {
  // presets/data/prices/energy.json: PUE 1.2, 0.39 kg CO2/kWh (EIA US 2022), GPUs at TDP, no node overhead.
  const auto e = presets::default_energy();
  CHECK(e.pue == 1.2);
  CHECK(e.grid_kg_per_kwh == 0.39);
  CHECK(e.utilisation == 1.0);
  CHECK(e.node_overhead == 1.0);
}
