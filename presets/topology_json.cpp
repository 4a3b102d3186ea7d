#include "presets/topology_json.hpp"

#include <set>

#include "common/format.hpp"
#include "presets/scenario_json.hpp"
#include "presets/units.hpp"

#include "presets/json_text.hpp"

namespace clustersim::presets {

namespace {

const char* type_name(const json& j) { return json_type_name(j); }

// Reads the fields of one object and reports the ones nobody asked for (with the closest known name).
class Fields {
 public:
  Fields(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  [[nodiscard]] std::string at(const std::string& key) const { return path_ + "." + key; }
  bool has(const std::string& key) {
    known_.insert(key);
    return j_.contains(key) && !j_.at(key).is_null();
  }
  [[nodiscard]] const json& get(const std::string& key) const { return j_.at(key); }

  std::optional<Error> integer(const std::string& key, int& out) {
    if (!has(key)) return std::nullopt;
    const auto& v = j_.at(key);
    if (v.is_number_integer() || v.is_number_unsigned()) {
      out = v.get<int>();
      return std::nullopt;
    }
    if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>()))) {
      out = static_cast<int>(v.get<double>());
      return std::nullopt;
    }
    return invalid(at(key), std::string("expected an integer, got ") + type_name(v));
  }
  std::optional<Error> number(const std::string& key, double& out) {
    if (!has(key)) return std::nullopt;
    const auto& v = j_.at(key);
    if (!v.is_number()) return invalid(at(key), std::string("expected a number, got ") + type_name(v));
    out = v.get<double>();
    return std::nullopt;
  }
  std::optional<Error> boolean(const std::string& key, bool& out) {
    if (!has(key)) return std::nullopt;
    const auto& v = j_.at(key);
    if (!v.is_boolean()) return invalid(at(key), std::string("expected true or false, got ") + type_name(v));
    out = v.get<bool>();
    return std::nullopt;
  }
  std::optional<Error> string(const std::string& key, std::string& out) {
    if (!has(key)) return std::nullopt;
    const auto& v = j_.at(key);
    if (!v.is_string()) return invalid(at(key), std::string("expected a string, got ") + type_name(v));
    out = v.get<std::string>();
    return std::nullopt;
  }
  // A number in SI base units or a string with a unit; `set` tells whether the field was there.
  std::optional<Error> quantity(const std::string& key, double& out, Dimension dim, bool* set = nullptr) {
    if (!has(key)) return std::nullopt;
    auto q = quantity_value(j_.at(key), dim, at(key));
    if (!q) return q.error();
    out = *q;
    if (set) *set = true;
    return std::nullopt;
  }
  [[nodiscard]] std::optional<Error> finish() const {
    std::vector<std::string> names(known_.begin(), known_.end());
    for (const auto& [k, v] : j_.items()) {
      if (known_.count(k)) continue;
      std::string msg = "unknown field";
      const auto close = closest_match(k, names);
      if (!close.empty()) msg += "; did you mean '" + close + "'?";
      return invalid(at(k), msg);
    }
    return std::nullopt;
  }

  static Expected<double> quantity_value(const json& v, Dimension dim, const std::string& path) {
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) return parse_quantity(v.get<std::string>(), dim, path);
    return invalid(path, std::string("expected a number or a string with a unit, got ") + type_name(v));
  }

 private:
  const json& j_;
  std::string path_;
  std::set<std::string> known_;
};

#define TJ_TRY(expr)                          \
  do {                                        \
    if (auto tj_err_ = (expr)) return *tj_err_; \
  } while (0)

std::optional<Error> expect_object(const json& j, const std::string& path) {
  if (!j.is_object()) return invalid(path, std::string("expected an object, got ") + type_name(j));
  return std::nullopt;
}

std::optional<hardware::ScaleUpKind> parse_scale_up_kind(const std::string& s) {
  if (s == "switched" || s == "nvswitch" || s == "nvlink-switch") return hardware::ScaleUpKind::switched;
  if (s == "full-mesh" || s == "full_mesh" || s == "mesh" || s == "xgmi") return hardware::ScaleUpKind::full_mesh;
  if (s == "torus") return hardware::ScaleUpKind::torus;
  return std::nullopt;
}

std::optional<Error> read_scale_up(const json& j, const std::string& path, hardware::ScaleUpTopology& su) {
  TJ_TRY(expect_object(j, path));
  Fields f(j, path);
  std::string kind;
  TJ_TRY(f.string("kind", kind));
  if (f.has("kind")) {
    auto k = parse_scale_up_kind(kind);
    if (!k) return invalid(f.at("kind"), "'" + kind + "' is not one of switched, full-mesh, torus");
    su.kind = *k;
  }
  TJ_TRY(f.integer("domain_gpus", su.domain_gpus));
  if (f.has("dims")) {
    const auto& d = f.get("dims");
    if (!d.is_array()) return invalid(f.at("dims"), std::string("expected a list of integers, got ") + type_name(d));
    su.torus_dims.clear();
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (!(d[i].is_number_integer() || d[i].is_number_unsigned()))
        return invalid(f.at("dims") + "[" + std::to_string(i) + "]", "expected an integer");
      su.torus_dims.push_back(d[i].get<int>());
    }
  }
  TJ_TRY(f.boolean("wraparound", su.torus_wraparound));
  TJ_TRY(f.number("in_network_efficiency", su.in_network_efficiency));
  if (f.has("in_network_efficiency") && !(su.in_network_efficiency > 0 && su.in_network_efficiency <= 1))
    return invalid(f.at("in_network_efficiency"), "must be in (0, 1], got " + num(su.in_network_efficiency));
  return f.finish();
}

std::optional<Error> read_host(const json& j, const std::string& path, hardware::HostTopology& h) {
  TJ_TRY(expect_object(j, path));
  Fields f(j, path);
  TJ_TRY(f.integer("gpus_per_nic", h.gpus_per_nic));
  double v = 0;
  bool set = false;
  TJ_TRY(f.quantity("pcie_bandwidth", v, Dimension::byte_rate, &set));
  if (set) h.pcie_bandwidth = ByteRate(v);
  return f.finish();
}

// "2:1" or 2.
std::optional<Error> read_ratio(Fields& f, const std::string& key, double& out) {
  if (!f.has(key)) return std::nullopt;
  const auto& v = f.get(key);
  if (v.is_number()) {
    out = v.get<double>();
    return std::nullopt;
  }
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    const auto colon = s.find(':');
    try {
      const std::string left = s.substr(0, colon);
      std::size_t used = 0;
      const double a = std::stod(left, &used);
      const double b = colon == std::string::npos ? 1.0 : std::stod(s.substr(colon + 1));
      if (used == left.size() && b > 0) {
        out = a / b;
        return std::nullopt;
      }
    } catch (const std::exception&) {
    }
    return invalid(f.at(key), "'" + s + "' is not a ratio such as 2 or \"2:1\"");
  }
  return invalid(f.at(key), std::string("expected a number or a ratio such as \"2:1\", got ") + type_name(v));
}

std::optional<Error> read_network(const json& j, const std::string& path, hardware::NetworkTopology& nw) {
  TJ_TRY(expect_object(j, path));
  Fields f(j, path);
  std::string kind;
  TJ_TRY(f.string("kind", kind));
  if (f.has("kind")) {
    if (kind == "fat-tree" || kind == "fat_tree" || kind == "clos") nw.kind = hardware::NetworkKind::fat_tree;
    else if (kind == "none") nw.kind = hardware::NetworkKind::none;
    else return invalid(f.at("kind"), "'" + kind + "' is not one of fat-tree, none");
  }
  TJ_TRY(f.integer("tiers", nw.tiers));
  if (f.has("tiers") && nw.tiers != 2 && nw.tiers != 3)
    return invalid(f.at("tiers"), "must be 2 or 3, got " + std::to_string(nw.tiers));
  TJ_TRY(f.boolean("rail_optimized", nw.rail_optimized));
  TJ_TRY(f.integer("switch_radix", nw.switch_radix));
  TJ_TRY(read_ratio(f, "oversubscription", nw.oversubscription));
  TJ_TRY(read_ratio(f, "spine_oversubscription", nw.spine_oversubscription));
  double v = 0;
  bool set = false;
  TJ_TRY(f.quantity("link_bandwidth", v, Dimension::byte_rate, &set));
  if (set) nw.link_bandwidth = ByteRate(v);
  double lat = nw.switch_latency.value;
  TJ_TRY(f.quantity("switch_latency", lat, Dimension::seconds));
  nw.switch_latency = Seconds(lat);
  TJ_TRY(f.number("in_network_efficiency", nw.in_network_efficiency));
  if (f.has("in_network_efficiency") && !(nw.in_network_efficiency > 0 && nw.in_network_efficiency <= 1))
    return invalid(f.at("in_network_efficiency"), "must be in (0, 1], got " + num(nw.in_network_efficiency));
  return f.finish();
}

std::optional<Error> read_calibration(const json& j, const std::string& path, std::vector<hardware::CollectiveCalibration>& out) {
  if (!j.is_array()) return invalid(path, std::string("expected a list of measured curves, got ") + type_name(j));
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    TJ_TRY(expect_object(j[i], p));
    Fields f(j[i], p);
    hardware::CollectiveCalibration c;
    std::string op;
    TJ_TRY(f.string("op", op));
    if (!f.has("op")) return invalid(f.at("op"), "is required");
    auto parsed = hardware::parse_collective(op);
    if (!parsed)
      return invalid(f.at("op"), "'" + op + "' is not one of all-reduce, reduce-scatter, all-gather, all-to-all, broadcast, send-recv");
    c.op = *parsed;
    if (!f.has("ranks")) return invalid(f.at("ranks"), "is required");
    TJ_TRY(f.integer("ranks", c.ranks));
    TJ_TRY(f.integer("ranks_per_node", c.ranks_per_domain));
    if (!f.has("points")) return invalid(f.at("points"), "is required");
    const auto& pts = f.get("points");
    if (!pts.is_array()) return invalid(f.at("points"), std::string("expected a list, got ") + type_name(pts));
    for (std::size_t k = 0; k < pts.size(); ++k) {
      const std::string pp = f.at("points") + "[" + std::to_string(k) + "]";
      const json* size = nullptr;
      const json* busbw = nullptr;
      if (pts[k].is_array() && pts[k].size() == 2) {
        size = &pts[k][0];
        busbw = &pts[k][1];
      } else if (pts[k].is_object()) {
        Fields pf(pts[k], pp);
        if (!pf.has("size")) return invalid(pf.at("size"), "is required");
        if (!pf.has("busbw")) return invalid(pf.at("busbw"), "is required");
        TJ_TRY(pf.finish());
        size = &pts[k]["size"];
        busbw = &pts[k]["busbw"];
      } else {
        return invalid(pp, "expected {\"size\": ..., \"busbw\": ...} or [size, busbw]");
      }
      auto s = Fields::quantity_value(*size, Dimension::bytes, pp + ".size");
      if (!s) return s.error();
      auto b = Fields::quantity_value(*busbw, Dimension::byte_rate, pp + ".busbw");
      if (!b) return b.error();
      c.points.push_back({Bytes(*s), ByteRate(*b)});
    }
    TJ_TRY(f.finish());
    out.push_back(std::move(c));
  }
  return std::nullopt;
}

}  // namespace

Expected<hardware::TopologySpec> topology_from_json(const json& j, const std::string& path) {
  if (auto e = expect_object(j, path)) return *e;
  Fields f(j, path);
  hardware::TopologySpec t;
  if (f.has("scale_up")) TJ_TRY(read_scale_up(f.get("scale_up"), f.at("scale_up"), t.scale_up));
  if (f.has("host")) TJ_TRY(read_host(f.get("host"), f.at("host"), t.host));
  if (f.has("network")) TJ_TRY(read_network(f.get("network"), f.at("network"), t.network));
  if (f.has("calibration")) TJ_TRY(read_calibration(f.get("calibration"), f.at("calibration"), t.calibration));
  TJ_TRY(f.finish());
  return t;
}

namespace {
// A calibrated GPU (`clustersim calibrate`) carries the collectives measured on its machine; a topology
// without tables of its own uses them (for groups of the measured size and layout).
std::optional<Error> gpu_collective_calibration(const json& cluster_json, const std::string& path,
                                                std::vector<hardware::CollectiveCalibration>& out) {
  if (!cluster_json.is_object() || !cluster_json.contains("gpu")) return std::nullopt;
  auto gpu = resolve(PresetKind::gpu, cluster_json.at("gpu"), path + ".gpu");
  if (!gpu || !gpu->is_object() || !gpu->contains("calibration")) return std::nullopt;
  const json& cal = gpu->at("calibration");
  if (!cal.is_object() || !cal.contains("collectives")) return std::nullopt;
  return read_calibration(cal.at("collectives"), path + ".gpu.calibration.collectives", out);
}
}  // namespace

std::optional<Error> attach_topology(const json& cluster_json, hardware::ClusterSpec& cluster, const std::string& path) {
  const bool has_topology =
      cluster_json.is_object() && cluster_json.contains("topology") && !cluster_json.at("topology").is_null();
  std::vector<hardware::CollectiveCalibration> measured;
  if (auto e = gpu_collective_calibration(cluster_json, path, measured)) return e;
  if (!has_topology && measured.empty()) return std::nullopt;
  auto t = has_topology ? topology_from_json(cluster_json.at("topology"), path + ".topology")
                        : Expected<hardware::TopologySpec>(hardware::TopologySpec{});
  if (!t) return t.error();
  if (t->calibration.empty()) t->calibration = std::move(measured);
  hardware::ClusterSpec with = cluster;
  with.topology = *t;
  auto resolved = hardware::resolved_topology(with);
  if (!resolved) {
    Error e = resolved.error();
    // resolved_topology names fields from "cluster."; keep the caller's prefix.
    if (path != "cluster" && e.path.rfind("cluster.", 0) == 0) e.path = path + e.path.substr(7);
    return e;
  }
  cluster.topology = *t;
  return std::nullopt;
}

Expected<hardware::ClusterSpec> cluster_with_topology_from_json(const json& j, const std::string& path) {
  auto resolved = resolve(PresetKind::cluster, j, path);
  if (!resolved) return resolved.error();
  json plain = *resolved;
  if (plain.is_object()) plain.erase("topology");
  auto c = cluster_from_json(plain, path);
  if (!c) return c.error();
  hardware::ClusterSpec out = *c;
  if (auto e = attach_topology(*resolved, out, path)) return *e;
  return out;
}

json topology_to_json(const hardware::TopologySpec& t) {
  json su = {{"kind", hardware::to_string(t.scale_up.kind)}};
  if (t.scale_up.domain_gpus) su["domain_gpus"] = t.scale_up.domain_gpus;
  if (!t.scale_up.torus_dims.empty()) su["dims"] = t.scale_up.torus_dims;
  if (t.scale_up.kind == hardware::ScaleUpKind::torus) su["wraparound"] = t.scale_up.torus_wraparound;
  if (t.scale_up.in_network_efficiency > 0) su["in_network_efficiency"] = t.scale_up.in_network_efficiency;
  json host = {{"gpus_per_nic", t.host.gpus_per_nic}};
  if (t.host.pcie_bandwidth) host["pcie_bandwidth"] = t.host.pcie_bandwidth->value;
  json nw = {{"kind", hardware::to_string(t.network.kind)}};
  if (t.network.kind == hardware::NetworkKind::fat_tree) {
    if (t.network.tiers) nw["tiers"] = t.network.tiers;
    nw["rail_optimized"] = t.network.rail_optimized;
    if (t.network.switch_radix) nw["switch_radix"] = t.network.switch_radix;
    nw["oversubscription"] = t.network.oversubscription;
    nw["spine_oversubscription"] = t.network.spine_oversubscription;
    if (t.network.link_bandwidth) nw["link_bandwidth"] = t.network.link_bandwidth->value;
    nw["switch_latency"] = t.network.switch_latency.value;
  }
  if (t.network.in_network_efficiency > 0) nw["in_network_efficiency"] = t.network.in_network_efficiency;
  json out = {{"scale_up", su}, {"host", host}, {"network", nw}};
  if (!t.calibration.empty()) {
    json cal = json::array();
    for (const auto& c : t.calibration) {
      json pts = json::array();
      for (const auto& p : c.points) pts.push_back({{"size", p.size.value}, {"busbw", p.busbw.value}});
      json e = {{"op", hardware::to_string(c.op)}, {"ranks", c.ranks}, {"points", pts}};
      if (c.ranks_per_domain) e["ranks_per_node"] = c.ranks_per_domain;
      cal.push_back(e);
    }
    out["calibration"] = cal;
  }
  return out;
}

}  // namespace clustersim::presets
