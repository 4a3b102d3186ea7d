#include "cli/cli_common.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

namespace clustersim::cli {

using nlohmann::json;

std::vector<RegisteredCommand>& registered_commands() {
  static std::vector<RegisteredCommand> commands;
  return commands;
}

CommandRegistrar::CommandRegistrar(const char* name, int order, CommandFactory factory) {
  registered_commands().push_back({name, order, factory});
}

int report_error(const Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  switch (e.code) {
    case ErrorCode::invalid_input: return kExitInput;
    case ErrorCode::infeasible: return kExitInfeasible;
    case ErrorCode::io:
    case ErrorCode::internal: return kExitIo;
  }
  return kExitIo;
}

Expected<json> read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::io, path, "cannot open file"};
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    return Error{ErrorCode::invalid_input, path, std::string("not valid JSON: ") + e.what()};
  }
}

void Overrides::add(CLI::App* app) {
  app->add_option("--model", model, "Model preset name (overrides scenario.model)");
  app->add_option("--cluster", cluster, "Cluster preset name (overrides scenario.cluster)");
  app->add_option("--nodes", nodes, "Number of nodes");
  app->add_option("--tp", tp, "Tensor-parallel degree");
  app->add_option("--pp", pp, "Pipeline-parallel degree");
  app->add_option("--dp", dp, "Data-parallel degree (default: GPUs / (tp x pp x cp))");
  app->add_option("--cp", cp, "Context-parallel degree");
  app->add_option("--micro-batch", micro_batch, "Micro-batch size (sequences)");
  app->add_option("--virtual-stages", virtual_stages, "Model chunks per pipeline rank (interleaved 1F1B)");
  app->add_option("--zero", zero, "ZeRO stage 0-3 (1 = Megatron distributed optimizer)");
  app->add_option("--seq-length", seq_length, "Sequence length (tokens)");
  app->add_option("--global-batch", global_batch, "Global batch (sequences)");
  app->add_option("--tokens", tokens, "Training target in tokens (for days and GPU-hours)");
  app->add_option("--schedule", schedule, "gpipe | 1f1b | interleaved-1f1b");
  app->add_option("--recompute", recompute, "none | selective | full");
  app->add_option("--attention", attention, "flash | materialized");
  app->add_option("--precision", precision, "bf16 | fp16 | fp8 | fp32");
  app->add_option("--sequence-parallel", sequence_parallel, "true | false");
}

void Overrides::apply(json& j) const {
  auto set = [&](const char* part, const char* key, const json& v) {
    if (!j.contains(part) || !j[part].is_object()) j[part] = json::object();
    j[part][key] = v;
  };
  if (!model.empty()) j["model"] = model;
  if (!cluster.empty()) j["cluster"] = cluster;
  if (nodes) {
    if (!j.contains("cluster")) j["cluster"] = json::object();
    if (j["cluster"].is_string()) j["cluster"] = json{{"base", j["cluster"]}};
    j["cluster"]["nodes"] = *nodes;
  }
  if (tp) set("layout", "tp", *tp);
  if (pp) set("layout", "pp", *pp);
  if (dp) set("layout", "dp", *dp);
  if (cp) set("layout", "cp", *cp);
  if (micro_batch) set("layout", "micro_batch", *micro_batch);
  if (virtual_stages) set("layout", "virtual_stages", *virtual_stages);
  if (zero) set("layout", "zero", *zero);
  if (!schedule.empty()) set("layout", "schedule", schedule);
  if (!recompute.empty()) set("layout", "recompute", recompute);
  if (!attention.empty()) set("layout", "attention", attention);
  if (sequence_parallel) set("layout", "sequence_parallel", *sequence_parallel);
  if (seq_length) set("training", "seq_length", *seq_length);
  if (global_batch) set("training", "global_batch", *global_batch);
  if (tokens) set("training", "tokens", *tokens);
  if (!precision.empty()) set("training", "precision", precision);
}

}  // namespace clustersim::cli
