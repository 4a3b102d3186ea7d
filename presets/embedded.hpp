#pragma once
#include <vector>

namespace clustersim::presets {

struct EmbeddedFile {
  const char* path;  // relative to presets/data, e.g. "gpus/h100-sxm.json"
  const char* text;
};

const std::vector<EmbeddedFile>& embedded_files();

}  // namespace clustersim::presets
