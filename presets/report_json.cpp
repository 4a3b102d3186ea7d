#include "presets/report_json.hpp"

#include <cmath>

namespace clustersim::presets {

using nlohmann::json;

namespace {
// Byte counts are whole numbers in the contract.
std::int64_t whole(double v) { return static_cast<std::int64_t>(std::llround(v)); }
}  // namespace

json report_to_json(const sim::Report& r, const strategies::Scenario& sc) {
  json j;
  j["evaluator"] = r.evaluator;
  j["iteration_time_s"] = r.iteration_time_s;
  j["tokens_per_s"] = r.tokens_per_s;
  j["tokens_per_s_per_gpu"] = r.tokens_per_s / r.gpus;
  j["tflops_per_gpu"] = r.tflops_per_gpu;
  j["mfu"] = r.mfu;
  j["hfu"] = r.hfu;
  const auto& t = r.time;
  j["time_breakdown_s"] = {{"compute", t.compute.value},     {"recompute", t.recompute.value},
                           {"tp_comm", t.tp_comm.value},     {"pp_comm", t.pp_comm.value},
                           {"dp_comm", t.dp_comm.value},     {"bubble", t.bubble.value},
                           {"optimizer", t.optimizer.value}, {"exposed_comm", t.exposed_comm.value}};
  json stages = json::array();
  for (const auto& s : r.memory.stages) {
    stages.push_back({{"stage", s.stage},
                      {"weights", whole(s.weights.value)},
                      {"gradients", whole(s.gradients.value)},
                      {"optimizer", whole(s.optimizer.value)},
                      {"activations", whole(s.activations.value)},
                      {"other", whole(s.other.value)},
                      {"peak", whole(s.device_peak.value)},
                      {"peak_allocated", whole(s.allocated_peak.value)},
                      {"peak_reserved", whole(s.reserved_peak.value)},
                      {"peak_device", whole(s.device_peak.value)},
                      {"peak_phase", s.peak_phase},
                      {"logits", whole(s.logits.value)},
                      {"params", whole(s.params)},
                      {"inflight_microbatches", s.inflight_microbatches}});
  }
  j["memory"] = {{"peak_bytes", whole(r.memory.peak_device.value)},
                 {"peak_allocated_bytes", whole(r.memory.peak_allocated.value)},
                 {"peak_reserved_bytes", whole(r.memory.peak_reserved.value)},
                 {"peak_device_bytes", whole(r.memory.peak_device.value)},
                 {"peak_stage", r.memory.peak_stage},
                 {"capacity_bytes", whole(r.memory.capacity.value)},
                 {"fits", r.memory.fits},
                 {"per_stage", stages}};
  j["params"] = {{"total", whole(r.params_total)}, {"per_gpu_max", whole(r.params_per_gpu_max)}};
  j["flops"] = {{"model_per_iteration", r.model_flops}, {"hardware_per_iteration", r.hardware_flops},
                {"attention_convention", "non-causal"}};
  j["traffic_bytes"] = {{"tp", whole(r.traffic_tp)}, {"pp", whole(r.traffic_pp)}, {"dp", whole(r.traffic_dp)}};
  const auto& L = sc.layout;
  j["layout"] = {{"tp", L.tp},
                 {"pp", L.pp},
                 {"dp", L.dp},
                 {"cp", L.cp},
                 {"ep", L.ep},
                 {"sequence_parallel", L.sequence_parallel},
                 {"micro_batch", L.micro_batch},
                 {"virtual_stages", L.virtual_stages},
                 {"schedule", strategies::to_string(L.schedule)},
                 {"zero", L.zero},
                 {"recompute", strategies::to_string(L.recompute)},
                 {"attention", strategies::to_string(L.attention)}};
  json split = json::array();
  for (const auto& st : sc.stages) split.push_back(st.chunk_layers);
  j["layout"]["stage_layers"] = split;
  j["gpus"] = r.gpus;
  j["micro_batches"] = r.micro_batches;
  j["bottleneck_stage"] = r.bottleneck_stage;
  j["model"] = sc.model.spec().name;
  j["cluster"] = sc.cluster.name;
  j["gpu"] = sc.cluster.gpu.name;
  if (r.tokens_target > 0)
    j["training_target"] = {{"tokens", r.tokens_target}, {"days", r.train_days}, {"gpu_hours", r.gpu_hours}};
  j["notes"] = r.notes;
  return j;
}

}  // namespace clustersim::presets
