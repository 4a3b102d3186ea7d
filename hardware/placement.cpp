#include "hardware/placement.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

namespace clustersim::hardware {

const char* to_string(ParallelDim d) {
  switch (d) {
    case ParallelDim::tp: return "tp";
    case ParallelDim::cp: return "cp";
    case ParallelDim::ep: return "ep";
    case ParallelDim::dp: return "dp";
    case ParallelDim::pp: return "pp";
    case ParallelDim::edp: return "edp";
  }
  return "?";
}

std::vector<int> GroupPattern::offsets() const {
  std::vector<int> out;
  out.reserve(static_cast<std::size_t>(size()));
  for (int a = 0; a < axes[2].count; ++a)
    for (int b = 0; b < axes[1].count; ++b)
      for (int c = 0; c < axes[0].count; ++c)
        out.push_back(a * axes[2].stride + b * axes[1].stride + c * axes[0].stride);
  std::sort(out.begin(), out.end());
  return out;
}

GroupPattern strided_pattern(int size, int stride, int world, bool concurrent) {
  GroupPattern p;
  p.axes[0] = {size, stride};
  p.world = world;
  p.concurrent = concurrent;
  return p;
}

Expected<std::vector<std::vector<int>>> enumerate_groups(const GroupPattern& pattern) {
  for (const auto& a : pattern.axes)
    if (a.count < 1 || a.stride < 1) return invalid("group", "axis counts and strides must be positive");
  const auto offsets = pattern.offsets();
  if (std::adjacent_find(offsets.begin(), offsets.end()) != offsets.end())
    return invalid("group", "axes overlap: two members fall on the same rank");
  if (offsets.back() >= pattern.world)
    return invalid("group", "the group reaches rank " + std::to_string(offsets.back()) + " but only " +
                                std::to_string(pattern.world) + " ranks exist");
  std::vector<std::vector<int>> groups;
  if (!pattern.concurrent) {
    groups.push_back(offsets);
    return groups;
  }
  if (pattern.world % pattern.size() != 0)
    return invalid("group", "groups of " + std::to_string(pattern.size()) + " do not tile " +
                                std::to_string(pattern.world) + " ranks");
  std::vector<char> seen(static_cast<std::size_t>(pattern.world), 0);
  groups.reserve(static_cast<std::size_t>(pattern.world / pattern.size()));
  for (int r = 0; r < pattern.world; ++r) {
    if (seen[r]) continue;
    std::vector<int> g(offsets.size());
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      const int m = r + offsets[i];
      if (m >= pattern.world || seen[m])
        return invalid("group", "the translates of the group do not tile " + std::to_string(pattern.world) + " ranks");
      seen[m] = 1;
      g[i] = m;
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

namespace {

std::optional<ParallelDim> parse_token(std::string_view s) {
  for (auto d : {ParallelDim::tp, ParallelDim::cp, ParallelDim::ep, ParallelDim::dp, ParallelDim::pp})
    if (s == to_string(d)) return d;
  return std::nullopt;
}

}  // namespace

Expected<Placement> Placement::make(const ParallelDegrees& deg, int gpus, std::string_view order) {
  for (auto [v, name] : {std::pair{deg.tp, "tp"}, {deg.cp, "cp"}, {deg.ep, "ep"}, {deg.dp, "dp"}, {deg.pp, "pp"}})
    if (v < 1) return invalid(std::string("layout.") + name, "must be positive, got " + std::to_string(v));
  if (deg.dp % deg.ep != 0)
    return invalid("layout.ep", std::to_string(deg.ep) + " does not divide dp " + std::to_string(deg.dp) +
                                    " (expert parallelism splits the data-parallel groups)");
  if (static_cast<long long>(deg.tp) * deg.cp * deg.dp * deg.pp > gpus)
    return invalid("layout", "tp x cp x dp x pp = " + std::to_string(static_cast<long long>(deg.tp) * deg.cp * deg.dp * deg.pp) +
                                 " ranks but the cluster has " + std::to_string(gpus) + " GPUs");
  Placement p;
  p.degrees_ = deg;
  // Parse "tp-cp-ep-dp-pp".
  const std::string msg = "'" + std::string(order) + "' must list tp, cp, ep, dp and pp once each, separated by '-'";
  std::size_t pos = 0;
  int n = 0;
  std::array<bool, 5> seen{};
  while (pos <= order.size()) {
    const auto end = std::min(order.find('-', pos), order.size());
    const auto tok = parse_token(order.substr(pos, end - pos));
    if (!tok || n >= 5 || seen[static_cast<int>(*tok)]) return invalid("layout.order", msg);
    seen[static_cast<int>(*tok)] = true;
    p.order_[n++] = *tok;
    pos = end + 1;
  }
  if (n != 5) return invalid("layout.order", msg);
  int ep_at = 0, dp_at = 0;
  for (int i = 0; i < 5; ++i) {
    if (p.order_[i] == ParallelDim::ep) ep_at = i;
    if (p.order_[i] == ParallelDim::dp) dp_at = i;
  }
  if (std::abs(ep_at - dp_at) != 1)
    return invalid("layout.order", "'" + std::string(order) + "': ep and dp must be adjacent (ep splits the dp groups)");

  // Strides: the product of the sizes of the dimensions inside (before) each one.
  const int world = deg.world();
  std::array<int, 5> stride{};  // by ParallelDim (dp = the dp/ep part)
  int s = 1;
  for (auto d : p.order_) {
    stride[static_cast<int>(d)] = s;
    s *= d == ParallelDim::dp ? deg.dp / deg.ep : p.size(d);
  }
  auto set = [&](ParallelDim d, int size, int str) { p.patterns_[static_cast<int>(d)] = strided_pattern(size, str, world); };
  set(ParallelDim::tp, deg.tp, stride[0]);
  set(ParallelDim::cp, deg.cp, stride[1]);
  set(ParallelDim::ep, deg.ep, stride[2]);
  set(ParallelDim::pp, deg.pp, stride[4]);
  set(ParallelDim::edp, deg.dp / deg.ep, stride[3]);
  // ep and dp/ep are adjacent, so the full DP group is one axis starting at the inner of the two.
  set(ParallelDim::dp, deg.dp, std::min(stride[2], stride[3]));
  return p;
}

std::string Placement::order() const {
  std::string s;
  for (auto d : order_) {
    if (!s.empty()) s += '-';
    s += to_string(d);
  }
  return s;
}

int Placement::size(ParallelDim d) const {
  switch (d) {
    case ParallelDim::tp: return degrees_.tp;
    case ParallelDim::cp: return degrees_.cp;
    case ParallelDim::ep: return degrees_.ep;
    case ParallelDim::dp: return degrees_.dp;
    case ParallelDim::pp: return degrees_.pp;
    case ParallelDim::edp: return degrees_.dp / degrees_.ep;
  }
  return 1;
}

int Placement::coordinate(ParallelDim d, int rank) const {
  const auto& a = pattern(d).axes[0];
  return (rank / a.stride) % a.count;
}

std::vector<std::vector<int>> Placement::groups(ParallelDim d) const {
  auto g = enumerate_groups(pattern(d));
  assert(g.has_value() && "a validated placement tiles its ranks");
  return std::move(g).value();
}

std::vector<int> Placement::group_of(ParallelDim d, int rank) const {
  const auto& a = pattern(d).axes[0];
  const int base = rank - coordinate(d, rank) * a.stride;
  std::vector<int> out(static_cast<std::size_t>(a.count));
  for (int j = 0; j < a.count; ++j) out[j] = base + j * a.stride;
  return out;
}

}  // namespace clustersim::hardware
