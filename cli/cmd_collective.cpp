// `clustersim collective`: the time of one collective on a group of a cluster, with the algorithm and
// protocol NCCL would pick, its algbw and busbw (nccl-tests definitions), so users can hold it against
// their own nccl-tests runs. --min-size prints an nccl-tests-style table over sizes.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/cli_common.hpp"
#include "hardware/topology.hpp"
#include "presets/topology_json.hpp"
#include "presets/units.hpp"

namespace clustersim::cli {

using nlohmann::json;

namespace {

struct CollectiveArgs {
  std::string cluster, op = "all-reduce", size, min_size, algo;
  std::optional<int> nodes, per_node;
  int ranks = 0;
  bool all_groups = false, as_json = false;
};

// Sizes as users and nccl-tests write them: "1GiB", "1 GiB", "1073741824", and nccl-tests' "128M", "8K", "1G"
// (binary multiples).
Expected<double> parse_size(std::string text, const std::string& flag) {
  if (!text.empty()) {
    const char last = text.back();
    if (last == 'K' || last == 'M' || last == 'G' || last == 'T') text += "iB";
  }
  auto v = presets::parse_quantity(text, presets::Dimension::bytes, flag);
  if (!v) return v.error();
  if (!(*v > 0)) return invalid(flag, "must be positive");
  return *v;
}

Expected<json> load_cluster_json(const std::string& name) {
  const bool is_file = name.size() > 5 && name.substr(name.size() - 5) == ".json";
  if (is_file || std::filesystem::exists(name)) return read_json_file(name);
  return json(name);
}

json result_json(const hardware::CollectiveResult& r, hardware::Collective op, double size) {
  return {{"op", hardware::to_string(op)},
          {"size_bytes", size},
          {"time_s", r.time.value},
          {"algorithm", hardware::to_string(r.algorithm)},
          {"protocol", hardware::to_string(r.protocol)},
          {"algbw_bytes_per_s", r.algbw.value},
          {"busbw_bytes_per_s", r.busbw.value},
          {"bytes_sent_per_rank", r.bytes_sent_per_rank.value}};
}

int run_collective(const CollectiveArgs& a) {
  auto op = hardware::parse_collective(a.op);
  if (!op)
    return report_error(invalid("--op", "'" + a.op + "' is not one of all-reduce, reduce-scatter, all-gather, all-to-all, "
                                                     "broadcast, send-recv"));
  auto size = parse_size(a.size, "--size");
  if (!size) return report_error(size.error());
  std::optional<double> min_size;
  if (!a.min_size.empty()) {
    auto m = parse_size(a.min_size, "--min-size");
    if (!m) return report_error(m.error());
    if (*m > *size) return report_error(invalid("--min-size", "must not exceed --size"));
    min_size = *m;
  }
  std::optional<hardware::Algorithm> forced;
  if (!a.algo.empty()) {
    forced = hardware::parse_algorithm(a.algo);
    if (!forced)
      return report_error(invalid("--algo", "'" + a.algo + "' is not one of ring, tree, hierarchical, nvls, nvls-tree, "
                                                          "in-network, torus, pairwise, direct"));
  }
  if (a.ranks < 1) return report_error(invalid("--ranks", "must be positive, got " + std::to_string(a.ranks)));

  auto cj = load_cluster_json(a.cluster);
  if (!cj) return report_error(cj.error());
  auto base = presets::cluster_with_topology_from_json(*cj, "cluster");
  if (!base) return report_error(base.error());
  hardware::ClusterSpec cluster = *base;
  const int gpn = cluster.gpus_per_node;
  const int per_node = a.per_node.value_or(std::min(a.ranks, gpn));
  if (per_node < 1 || per_node > gpn)
    return report_error(invalid("--per-node", "must be between 1 and gpus_per_node (" + std::to_string(gpn) + "), got " +
                                                  std::to_string(per_node)));
  if (a.ranks % per_node != 0)
    return report_error(invalid("--ranks", std::to_string(a.ranks) + " is not a multiple of --per-node " +
                                               std::to_string(per_node)));
  const int nodes_needed = a.ranks / per_node;
  if (a.nodes) {
    cluster.nodes = *a.nodes;
    if (cluster.nodes < nodes_needed)
      return report_error(invalid("--ranks", std::to_string(a.ranks) + " ranks at " + std::to_string(per_node) +
                                                 " per node need " + std::to_string(nodes_needed) + " nodes but --nodes is " +
                                                 std::to_string(cluster.nodes) + " (" +
                                                 std::to_string(cluster.total_gpus()) + " GPUs)"));
  } else {
    cluster.nodes = std::max(cluster.nodes, nodes_needed);
  }
  auto fabric = hardware::Fabric::build(cluster);
  if (!fabric) return report_error(fabric.error());
  const auto& f = **fabric;

  // The group: `per_node` consecutive GPUs on each of the first ranks/per_node nodes.
  hardware::GroupPattern pattern;
  pattern.axes[0] = {per_node, 1};
  pattern.axes[1] = {nodes_needed, gpn};
  pattern.world = a.all_groups ? f.gpu_count() : (nodes_needed - 1) * gpn + per_node;
  pattern.concurrent = a.all_groups;
  auto prof = f.profile(pattern);
  if (!prof) {
    Error e = prof.error();
    if (a.all_groups) e.path = "--all-groups";
    return report_error(e);
  }
  const auto& g = **prof;
  if (forced) {
    bool applies = false;
    for (const auto& c : hardware::collective_candidates(g, *op, Bytes(*size))) applies |= c.algorithm == *forced;
    if (!applies)
      return report_error(invalid("--algo", std::string("'") + hardware::to_string(*forced) + "' does not apply to " +
                                                hardware::to_string(*op) + " on this group"));
  }
  hardware::CollectiveOptions opt;
  opt.algorithm = forced;
  opt.calibration = &f.calibration();

  std::vector<double> sizes;
  if (min_size) {
    for (double s = *min_size; s < *size * (1 + 1e-12); s *= 2) sizes.push_back(s);
    if (sizes.back() < *size * (1 - 1e-12)) sizes.push_back(*size);
  } else {
    sizes.push_back(*size);
  }
  std::vector<hardware::CollectiveResult> results;
  for (double s : sizes) results.push_back(hardware::cost_collective(g, *op, Bytes(s), opt));
  const auto& last = results.back();

  if (a.as_json) {
    json out = result_json(last, *op, sizes.back());
    out["cluster"] = cluster.name;
    out["ranks"] = a.ranks;
    out["per_node"] = per_node;
    out["nodes"] = nodes_needed;
    out["domains"] = g.domains;
    out["all_groups"] = a.all_groups;
    out["groups"] = g.groups;
    out["tiers_crossed"] = hardware::tiers_crossed(g, *op);
    out["bottleneck"] = hardware::bottleneck(g, *op);
    json cand = json::array();
    for (const auto& c : hardware::collective_candidates(g, *op, Bytes(sizes.back())))
      cand.push_back({{"algorithm", hardware::to_string(c.algorithm)},
                      {"protocol", hardware::to_string(c.protocol)},
                      {"time_s", c.time.value},
                      {"busbw_bytes_per_s", c.busbw.value}});
    out["candidates"] = cand;
    if (min_size) {
      json rows = json::array();
      for (std::size_t i = 0; i < sizes.size(); ++i) rows.push_back(result_json(results[i], *op, sizes[i]));
      out["rows"] = rows;
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }

  std::cout << fmt::format("{} on {} ranks ({} node{} x {}) of {} ({}, {} GPUs per scale-up domain){}\n",
                           hardware::to_string(*op), a.ranks, nodes_needed, nodes_needed == 1 ? "" : "s", per_node,
                           cluster.name, cluster.gpu.name, f.domain_size(),
                           a.all_groups ? fmt::format(", {} group{} at once", g.groups, g.groups == 1 ? "" : "s")
                                        : std::string());
  std::cout << fmt::format("path: {} scale-up domain{}, network tiers crossed {}, bottleneck {}\n\n", g.domains,
                           g.domains == 1 ? "" : "s", hardware::tiers_crossed(g, *op), hardware::bottleneck(g, *op));
  if (min_size) {
    std::cout << fmt::format("{:>14} {:>12} {:>10} {:>10}  {}\n", "size (B)", "time (us)", "algbw", "busbw",
                             "algorithm");
    std::cout << fmt::format("{:>14} {:>12} {:>10} {:>10}\n", "", "", "(GB/s)", "(GB/s)");
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const auto& r = results[i];
      std::cout << fmt::format("{:>14.0f} {:>12.2f} {:>10.2f} {:>10.2f}  {} ({})\n", sizes[i], r.time.value * 1e6,
                               r.algbw.value / 1e9, r.busbw.value / 1e9, hardware::to_string(r.algorithm),
                               hardware::to_string(r.protocol));
    }
    return kExitOk;
  }
  std::cout << fmt::format("{:<22}{}\n", "size", presets::format_bytes(sizes.back()));
  std::cout << fmt::format("{:<22}{}\n", "time", presets::format_seconds(last.time.value));
  std::cout << fmt::format("{:<22}{} ({})\n", "algorithm", hardware::to_string(last.algorithm),
                           hardware::to_string(last.protocol));
  std::cout << fmt::format("{:<22}{}\n", "algbw", presets::format_rate(last.algbw.value));
  std::cout << fmt::format("{:<22}{}\n", "busbw", presets::format_rate(last.busbw.value));
  std::cout << fmt::format("{:<22}{}\n", "sent per rank", presets::format_bytes(last.bytes_sent_per_rank.value));
  return kExitOk;
}

Command add_collective_command(CLI::App& app) {
  auto st = std::make_shared<CollectiveArgs>();
  auto* cmd = app.add_subcommand(
      "collective",
      "Time, algorithm, algbw and busbw of one collective on a group of a cluster (compare with nccl-tests)");
  cmd->add_option("--cluster", st->cluster, "Cluster preset name or cluster JSON file")->required();
  cmd->add_option("--op", st->op,
                  "all-reduce | reduce-scatter | all-gather | all-to-all | broadcast | send-recv (default all-reduce)");
  cmd->add_option("--size", st->size,
                  "Bytes: 1GiB, \"1 GiB\", 1073741824 or nccl-tests' 1G; the full array for reduce-scatter and "
                  "all-gather, the per-rank buffer for all-to-all")
      ->required();
  cmd->add_option("--ranks", st->ranks, "Group size (GPUs)")->required();
  cmd->add_option("--per-node", st->per_node, "Group members per node (default: fill nodes, min(ranks, GPUs per node))");
  cmd->add_option("--nodes", st->nodes, "Nodes in the cluster (default: the preset's, grown to fit the group)");
  cmd->add_flag("--all-groups", st->all_groups,
                "Every group of this shape across the cluster runs at once (they share NICs and switch links)");
  cmd->add_option("--algo", st->algo, "Force an algorithm (as NCCL_ALGO): ring, tree, hierarchical, nvls, ...");
  cmd->add_option("--min-size", st->min_size, "Print a table from this size up to --size, doubling (nccl-tests -b/-e/-f 2)");
  cmd->add_flag("--json", st->as_json, "Print JSON");
  return {cmd, [st]() { return run_collective(*st); }};
}

}  // namespace

static const CommandRegistrar kRegisterCollective{"collective", 40, &add_collective_command};

}  // namespace clustersim::cli
