// Sweep files: what they expand to, and one SECTION per bad field with the error that names it. Rows
// written as CSV and JSON Lines read back exactly.
#include <sstream>

#include "fixtures.hpp"
#include "presets/prices_json.hpp"
#include "presets/sweep_json.hpp"

using namespace clustersim;
using namespace clustersim::testing;
using nlohmann::json;

namespace {

json base_file() {
  return json::parse(R"({
    "base": { "model": "megatron-1.7b", "cluster": { "base": "dgx-a100", "nodes": 2 },
              "training": { "seq_length": 2048, "global_batch": 512 } },
    "axes": { "tp": "auto", "pp": [1, 2], "micro_batch": [1, 2, 4] } })");
}

// The error of a sweep file: path and a fragment of the message.
void expect_error(const json& j, const std::string& path, const std::string& fragment) {
  const auto s = presets::sweep_space_from_json(j);
  INFO(j.dump());
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().path == path);
  CHECK_THAT(s.error().message, Catch::Contains(fragment));
  CHECK(s.error().code == ErrorCode::invalid_input);
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, ',')) out.push_back(f);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

}  // namespace

TEST_CASE("a sweep file expands its outer axes into bases, in order") {
  auto j = base_file();
  SECTION("no outer axis: one base") {
    const auto spec = presets::sweep_from_json(j);
    REQUIRE(spec.has_value());
    REQUIRE(spec->bases.size() == 1);
    CHECK(spec->bases[0].cluster.total_gpus() == 16);
    CHECK(spec->axes.tp.mode == sim::AxisMode::automatic);
    CHECK(spec->axes.pp.values == std::vector<int>{1, 2});
    CHECK(spec->axes.zero.mode == sim::AxisMode::fixed);
    // No price in the file: the GPU preset's default dated price.
    const auto fallback = presets::default_price_for_gpu("a100-80gb");
    REQUIRE(fallback.has_value());
    CHECK(spec->bases[0].price_per_gpu_hour == fallback->usd_per_gpu_hour);
    CHECK_THAT(spec->bases[0].price_source, Catch::Contains(fallback->name));
  }
  SECTION("a price preset by name, and a GPU without a default price") {
    j["price_per_gpu_hour"] = "aws-h100";
    const auto spec = presets::sweep_from_json(j);
    REQUIRE(spec.has_value());
    const auto preset = presets::find_price("aws-h100", "test");
    REQUIRE(preset.has_value());
    CHECK(spec->bases[0].price_per_gpu_hour == preset->usd_per_gpu_hour);
    j.erase("price_per_gpu_hour");
    j["base"]["cluster"]["gpu"] = {{"base", "a100-80gb"}, {"name", "a100-lab"}};
    const auto custom = presets::sweep_from_json(j);
    REQUIRE(custom.has_value());
    CHECK(custom->bases[0].price_per_gpu_hour == 0.0);
  }
  SECTION("gpu x nodes x seq_length, priced per GPU") {
    j["axes"]["gpu"] = {"a100-80gb", "h100"};
    j["axes"]["nodes"] = {1, 2};
    j["axes"]["seq_length"] = {1024, 2048};
    j["price_per_gpu_hour"] = {{"a100-80gb", 1.5}, {"h100-sxm", 2.5}};
    const auto spec = presets::sweep_from_json(j);
    REQUIRE(spec.has_value());
    REQUIRE(spec->bases.size() == 8);
    CHECK(spec->bases[0].label == "gpu a100-80gb, nodes 1, seq_length 1024");
    CHECK(spec->bases[3].label == "gpu a100-80gb, nodes 2, seq_length 2048");
    CHECK(spec->bases[4].cluster.gpu.name == "h100-sxm");
    CHECK(spec->bases[5].training.seq_length == 2048);
    CHECK(spec->bases[6].cluster.nodes == 2);
    CHECK(spec->bases[0].price_per_gpu_hour == 1.5);
    CHECK(spec->bases[7].price_per_gpu_hour == 2.5);
  }
  SECTION("gpus instead of nodes; one price for every GPU") {
    j["axes"]["gpus"] = {8, 32};
    j["price_per_gpu_hour"] = 2.0;
    const auto spec = presets::sweep_from_json(j);
    REQUIRE(spec.has_value());
    REQUIRE(spec->bases.size() == 2);
    CHECK(spec->bases[0].cluster.nodes == 1);
    CHECK(spec->bases[1].cluster.nodes == 4);
    CHECK(spec->bases[1].price_per_gpu_hour == 2.0);
  }
  SECTION("a swept global batch need not be in the base") {
    j["base"]["training"].erase("global_batch");
    j["axes"]["global_batch"] = {256, 1024};
    const auto spec = presets::sweep_from_json(j);
    REQUIRE(spec.has_value());
    REQUIRE(spec->bases.size() == 2);
    CHECK(spec->bases[1].training.global_batch == 1024);
  }
}

TEST_CASE("the fingerprint follows the content, not the key order") {
  const auto a = base_file();
  auto b = json::parse(R"({ "axes": { "micro_batch": [1, 2, 4], "pp": [1, 2], "tp": "auto" },
    "base": { "training": { "global_batch": 512, "seq_length": 2048 }, "model": "megatron-1.7b",
              "cluster": { "nodes": 2, "base": "dgx-a100" } } })");
  CHECK(presets::sweep_fingerprint(a) == presets::sweep_fingerprint(b));
  b["axes"]["pp"] = {1, 4};
  CHECK(presets::sweep_fingerprint(a) != presets::sweep_fingerprint(b));
}

TEST_CASE("bad sweep files name the field and the reason") {
  auto j = base_file();
  SECTION("unknown axis") {
    j["axes"]["tpp"] = {1};
    expect_error(j, "axes.tpp", "unknown axis; did you mean 'tp'?");
  }
  SECTION("empty axis") {
    j["axes"]["pp"] = json::array();
    expect_error(j, "axes.pp", "empty list");
  }
  SECTION("value listed twice") {
    j["axes"]["pp"] = {2, 2};
    expect_error(j, "axes.pp[1]", "listed twice");
  }
  SECTION("not an integer") {
    j["axes"]["pp"] = {1.5};
    expect_error(j, "axes.pp[0]", "expected an integer");
  }
  SECTION("a string other than auto") {
    j["axes"]["pp"] = "all";
    expect_error(j, "axes.pp", "expected \"auto\"");
  }
  SECTION("a degree below 1") {
    j["axes"]["pp"] = {0, 1};
    expect_error(j, "axes.pp[0]", "must be in 1..");
  }
  SECTION("zero stage out of range") {
    j["axes"]["zero"] = {1, 4};
    expect_error(j, "axes.zero[1]", "must be in 0..3");
  }
  SECTION("unknown schedule") {
    j["axes"]["schedule"] = {"1f1b", "zigzag"};
    expect_error(j, "axes.schedule[1]", "'zigzag' is not one of");
  }
  SECTION("sequence_parallel not a boolean") {
    j["axes"]["sequence_parallel"] = {1};
    expect_error(j, "axes.sequence_parallel[0]", "expected \"auto\", true, false");
  }
  SECTION("auto on an outer axis") {
    j["axes"]["nodes"] = "auto";
    expect_error(j, "axes.nodes", "not possible for this axis");
  }
  SECTION("nodes and gpus together") {
    j["axes"]["nodes"] = {1};
    j["axes"]["gpus"] = {8};
    expect_error(j, "axes.gpus", "not both");
  }
  SECTION("gpus not a multiple of the node size") {
    j["axes"]["gpus"] = {8, 12};
    expect_error(j, "axes.gpus[1]", "not a multiple of the 8 GPUs per node");
  }
  SECTION("unknown GPU preset") {
    j["axes"]["gpu"] = {"h100-sxm", "h1OO"};
    expect_error(j, "axes.gpu[1]", "unknown gpu preset");
  }
  SECTION("axis also fixed in base.layout") {
    j["base"]["layout"] = {{"pp", 2}};
    expect_error(j, "axes.pp", "also fixed in base.layout.pp");
  }
  SECTION("uneven stage split in base.layout") {
    j["axes"].erase("pp");
    j["base"]["layout"] = {{"pp", 2}, {"stage_layers", {11, 13}}};
    expect_error(j, "base.layout.stage_layers", "cannot be swept");
  }
  SECTION("contradictory constraints") {
    j["constraints"] = {{"min_tp", 8}, {"max_tp", 4}};
    expect_error(j, "constraints.min_tp", "contradict");
  }
  SECTION("a constraint that excludes every value of its axis") {
    j["axes"]["pp"] = {4, 8};
    j["constraints"] = {{"max_pp", 2}};
    expect_error(j, "constraints.max_pp", "excludes every value of axes.pp [4, 8]");
  }
  SECTION("a constraint that excludes every auto value") {
    j["constraints"] = {{"min_tp", 64}};
    expect_error(j, "constraints.min_tp", "excludes the values \"auto\" gives");
  }
  SECTION("tp within the node with only larger tp") {
    j["axes"]["tp"] = {16};
    j["constraints"] = {{"tp_within_node", true}};
    expect_error(j, "constraints.tp_within_node", "excludes every value of axes.tp [16]");
  }
  SECTION("unknown constraint") {
    j["constraints"] = {{"max_tensor", 8}};
    expect_error(j, "constraints.max_tensor", "unknown constraint");
  }
  SECTION("memory fraction out of range") {
    j["constraints"] = {{"max_memory_fraction", 1.5}};
    expect_error(j, "constraints.max_memory_fraction", "must be in (0, 1]");
  }
  SECTION("free memory larger than the GPU") {
    j["constraints"] = {{"min_free_memory", "100 GiB"}};
    expect_error(j, "constraints.min_free_memory", "nothing can fit");
  }
  SECTION("unknown evaluator") {
    j["evaluator"] = "magic";
    expect_error(j, "evaluator", "not one of estimate, simulate");
  }
  SECTION("unknown objective") {
    j["objectives"] = {"iteration_time_s", "cost_per_tokn"};
    expect_error(j, "objectives[1]", "did you mean 'cost_per_token'?");
  }
  SECTION("objective listed twice") {
    j["objectives"] = {"mfu", "mfu"};
    expect_error(j, "objectives[1]", "listed twice");
  }
  SECTION("cost per token without a price") {
    j["base"]["cluster"]["gpu"] = {{"base", "a100-80gb"}, {"name", "a100-lab"}};  // no default price
    j["objectives"] = {"cost_per_token"};
    expect_error(j, "objectives", "cost_per_token needs a price for every GPU of the sweep; a100-lab has none");
  }
  SECTION("unknown price preset") {
    j["price_per_gpu_hour"] = "aws-h100x";
    expect_error(j, "price_per_gpu_hour", "unknown price preset");
  }
  SECTION("negative price") {
    j["price_per_gpu_hour"] = -1;
    expect_error(j, "price_per_gpu_hour", "must be a positive number");
  }
  SECTION("price for a GPU that is not swept") {
    j["price_per_gpu_hour"] = {{"h100-sxm", 2.0}};
    expect_error(j, "price_per_gpu_hour.h100-sxm", "no GPU of the sweep is called so");
  }
  SECTION("top_k below 1") {
    j["top_k"] = 0;
    expect_error(j, "top_k", "at least 1");
  }
  SECTION("no base") {
    j.erase("base");
    expect_error(j, "base", "is required");
  }
  SECTION("unknown top-level field") {
    j["constraint"] = json::object();
    expect_error(j, "constraint", "did you mean 'constraints'?");
  }
  SECTION("a swept sequence longer than the learned position table") {
    j["base"]["model"] = "gpt3-175b";
    j["base"]["cluster"]["nodes"] = 16;
    j["axes"]["seq_length"] = {2048, 4096};
    expect_error(j, "training.seq_length", "sweep base: seq_length 4096");
  }
  SECTION("unknown model") {
    j["base"]["model"] = "gpt5";
    expect_error(j, "base.model", "unknown model preset");
  }
}

TEST_CASE("rows as CSV and JSON Lines: one column per field, numbers that read back exactly") {
  auto j = base_file();
  j["price_per_gpu_hour"] = 1.79;
  j["base"]["training"]["tokens"] = 1e10;
  j["base"]["cluster"]["gpu"] = {{"base", "a100-80gb"}, {"hbm_capacity", "8 GiB"}};
  auto space = presets::sweep_space_from_json(j);
  REQUIRE(space.has_value());
  RowCollector sink;
  sim::SweepRunOptions o;
  o.keep_infeasible_rows = true;
  REQUIRE(sim::run_sweep(*space, o, &sink, nullptr).has_value());
  const sim::SweepRow* feasible = nullptr;
  const sim::SweepRow* infeasible = nullptr;
  for (const auto& r : sink.rows) (r.feasible() ? feasible : infeasible) = &r;
  REQUIRE(feasible);
  REQUIRE(infeasible);

  const presets::SweepRowFormat csv(*space, presets::SweepRowFormat::Kind::csv);
  const auto header = split_csv(csv.header().substr(0, csv.header().size() - 1));
  REQUIRE(header.size() == 30);
  CHECK(header.front() == "index");
  CHECK(header.back() == "cost_usd");
  std::string line;
  csv.append(line, *feasible);
  REQUIRE(line.back() == '\n');
  auto f = split_csv(line.substr(0, line.size() - 1));
  REQUIRE(f.size() == header.size());
  auto col = [&](const std::string& name) {
    return f[static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin())];
  };
  CHECK(col("index") == std::to_string(feasible->point.index));
  CHECK(col("gpus") == "16");
  CHECK(col("feasible") == "true");
  CHECK(std::stod(col("iteration_time_s")) == feasible->iteration_time_s);
  CHECK(std::stod(col("cost_per_token")) == feasible->cost_per_token);
  CHECK(std::stod(col("memory_peak_bytes")) == feasible->memory_peak_bytes);
  line.clear();
  csv.append(line, *infeasible);
  f = split_csv(line.substr(0, line.size() - 1));
  REQUIRE(f.size() == header.size());
  CHECK(col("feasible") == "false");
  CHECK(col("reason").rfind("out of memory", 0) == 0);
  CHECK(col("iteration_time_s").empty());
  CHECK(col("cost_usd").empty());
  CHECK_FALSE(col("memory_peak_bytes").empty());

  const presets::SweepRowFormat jsonl(*space, presets::SweepRowFormat::Kind::jsonl);
  CHECK(jsonl.header().empty());
  line.clear();
  jsonl.append(line, *feasible);
  jsonl.append(line, *infeasible);
  std::stringstream ss(line);
  std::string l1, l2;
  std::getline(ss, l1);
  std::getline(ss, l2);
  const auto a = nlohmann::ordered_json::parse(l1);
  const auto b = json::parse(l2);
  REQUIRE(a.size() == header.size());
  std::size_t k = 0;
  for (const auto& [key, v] : a.items()) CHECK(key == header[k++]);
  CHECK(a["iteration_time_s"].get<double>() == feasible->iteration_time_s);
  CHECK(a["mfu"].get<double>() == feasible->mfu);
  CHECK(a["gpu_hours"].get<double>() == feasible->gpu_hours);
  CHECK(a["sequence_parallel"].is_boolean());
  CHECK(b["feasible"] == false);
  CHECK(b["iteration_time_s"].is_null());
  CHECK(b["memory_peak_bytes"].get<double>() == infeasible->memory_peak_bytes);

  // Resume states keep rows and counts exactly.
  const auto back = presets::row_from_state(*space, presets::row_to_state(*feasible));
  REQUIRE(back.has_value());
  CHECK(same_row(*back, *feasible));
  sim::SweepCounts counts;
  counts.invalid[3] = 5;
  counts.excluded[1] = 7;
  counts.status[0] = 11;
  counts.status[2] = 13;
  const auto c = presets::counts_from_json(presets::counts_to_json(counts));
  REQUIRE(c.has_value());
  CHECK(*c == counts);
  CHECK_FALSE(presets::row_from_state(*space, json{{"index", space->size() + 5}}).has_value());
}
