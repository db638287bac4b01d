// Parity with torchvision's segmentation networks: the same weights on the same input must give
// the same logits in hemapath as in torchvision (tests/python/export_torchvision_segmentation.py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "hemapath/models/segmenter.h"
#include "hemapath/models/segmenter_registry.h"
#include "hemapath/models/weight_import.h"
#include "model_test_util.h"
#include "test_support.h"

namespace hemapath {
namespace {

namespace fs = std::filesystem;

using test::read_text;

// A folder of this process's own, removed at the end of the test.
class ExportDir {
 public:
  explicit ExportDir(const std::string& arch)
      : path_(fs::temp_directory_path() / ("hemapath_segparity_" + arch + "_" + std::to_string(getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ExportDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Runs the exporter for `arch` into `dir`; "" on success, "skip: ..." when torchvision is not
// available, else what went wrong.
std::string export_reference(const std::string& arch, const fs::path& dir) {
  if (std::string(HEMAPATH_PYTHON).empty())
    return "skip: python3 (with torch and torchvision) was not found at configure time; "
           "scripts/setup.sh installs python3-torch and python3-torchvision";
  const std::string python = std::string("'") + HEMAPATH_PYTHON + "'";
  if (std::system((python + " -c 'import torchvision.models.segmentation' > /dev/null 2>&1").c_str()) != 0)
    return "skip: " + std::string(HEMAPATH_PYTHON) + " cannot import torchvision.models.segmentation";
  const std::string script = std::string(HEMAPATH_TEST_PYTHON_DIR) + "/export_torchvision_segmentation.py";
  const fs::path log = dir / "export.log";
  const std::string command = "OMP_NUM_THREADS=1 " + python + " '" + script + "' --out '" + dir.string() + "' " +
                              arch + " > '" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  if (status == 0) return "";
  return "torchvision export failed (status " + std::to_string(status) + "): " + command + "\n" + read_text(log);
}

void expect_parity(const std::string& arch) {
  ExportDir dir(arch);
  const std::string failure = export_reference(arch, dir.path());
  if (failure.rfind("skip: ", 0) == 0) GTEST_SKIP() << failure.substr(6);
  ASSERT_EQ(failure, "");

  SegmenterOptions options;
  options.num_classes = 3;
  auto model = create_segmenter(arch, options);
  const std::string weights_path = (dir.path() / (arch + ".pt")).string();
  const ImportReport report = import_state_dict(*model, read_state_dict(weights_path), /*strict=*/true, weights_path);
  EXPECT_EQ(report.loaded.size(), state_dict_of(*model).size());
  model->eval();

  testing::expect_reference_output([&](const torch::Tensor& x) { return model->forward(x); }, dir.path(), arch, 0.01);
}

// One case per network: CTest runs them in parallel, each exporting only its own.
TEST(SegmentationParity, FcnResnet50MatchesTorchvision) { expect_parity("fcn_resnet50"); }

TEST(SegmentationParity, Deeplabv3Resnet50MatchesTorchvision) { expect_parity("deeplabv3_resnet50"); }

}  // namespace
}  // namespace hemapath
