#pragma once
// Rank placement: which GPUs form the groups of each parallel dimension.
//
// Ranks are numbered like GPUs (node-major: rank r runs on GPU r, GPU = node * gpus_per_node + local
// index), and a rank's coordinates follow an order string, innermost first, as Megatron-LM's
// RankGenerator does (megatron/core/parallel_state.py, default order "tp-cp-ep-dp-pp": TP varies
// fastest, so TP groups are consecutive GPUs of one node). Expert parallelism shares ranks with data
// parallelism (Megatron: ep divides dp and "ep" sits next to "dp" in the order): the `ep` groups split
// each DP group, `edp` (expert data parallel) groups join the ranks that hold the same experts, and the
// `dp` groups are the full data-parallel groups.
//
// Every group of a dimension is a translate of one strided pattern (GroupPattern), which is what the
// collective model memoises on.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace clustersim::hardware {

enum class ParallelDim { tp, cp, ep, dp, pp, edp };
const char* to_string(ParallelDim d);

struct ParallelDegrees {
  int tp = 1, cp = 1, ep = 1, dp = 1, pp = 1;
  [[nodiscard]] int world() const { return tp * cp * dp * pp; }  // ep lies inside dp
};

inline constexpr std::string_view kMegatronOrder = "tp-cp-ep-dp-pp";

// One axis of a group: `count` members `stride` ranks apart.
struct GroupAxis {
  int count = 1;
  int stride = 1;
  friend bool operator==(const GroupAxis&, const GroupAxis&) = default;
};

// The members of the group that holds rank 0 are the sums  j0*s0 + j1*s1 + j2*s2  (j_i < count_i);
// the other groups are its translates tiling ranks [0, world). With `concurrent`, every translate runs
// at the same time (all groups of a dimension); without, only the group at rank 0 (one communicator).
struct GroupPattern {
  std::array<GroupAxis, 3> axes{};
  int world = 1;
  bool concurrent = true;

  [[nodiscard]] int size() const { return axes[0].count * axes[1].count * axes[2].count; }
  [[nodiscard]] std::vector<int> offsets() const;  // members of the group at rank 0, ascending
  friend bool operator==(const GroupPattern&, const GroupPattern&) = default;
};

// One group of `size` ranks on a single axis.
GroupPattern strided_pattern(int size, int stride, int world, bool concurrent = true);

// Every group of the pattern (members ascending, groups by smallest member); an error when its
// translates do not tile [0, world) (axes overlapping or running past `world`).
Expected<std::vector<std::vector<int>>> enumerate_groups(const GroupPattern& pattern);

// A validated placement of degrees on `gpus` GPUs (ranks 0 .. world-1).
class Placement {
 public:
  Placement() = default;  // one rank (every degree 1), Megatron order

  // Errors name the field: "layout.tp" (not positive), "layout.ep" (does not divide dp), "layout.order",
  // "layout" (more ranks than GPUs).
  static Expected<Placement> make(const ParallelDegrees& degrees, int gpus,
                                  std::string_view order = kMegatronOrder);

  [[nodiscard]] const ParallelDegrees& degrees() const { return degrees_; }
  [[nodiscard]] int world() const { return degrees_.world(); }
  [[nodiscard]] std::string order() const;
  [[nodiscard]] int size(ParallelDim d) const;
  [[nodiscard]] int group_count(ParallelDim d) const { return world() / size(d); }
  [[nodiscard]] const GroupPattern& pattern(ParallelDim d) const { return patterns_[static_cast<int>(d)]; }
  // The rank's position along a dimension (0 .. size-1).
  [[nodiscard]] int coordinate(ParallelDim d, int rank) const;
  // Members (GPU ids) of every group of a dimension, groups ordered by their smallest member.
  [[nodiscard]] std::vector<std::vector<int>> groups(ParallelDim d) const;
  // The group of a dimension that holds `rank`.
  [[nodiscard]] std::vector<int> group_of(ParallelDim d, int rank) const;

 private:
  ParallelDegrees degrees_;
  // Innermost first; ParallelDim::dp stands for the dp/ep part.
  std::array<ParallelDim, 5> order_{ParallelDim::tp, ParallelDim::cp, ParallelDim::ep, ParallelDim::dp, ParallelDim::pp};
  std::array<GroupPattern, 6> patterns_{};
};

}  // namespace clustersim::hardware
