#include <gtest/gtest.h>

#include "hemapath/data/dataset_spec.h"
#include "test_support.h"

namespace hemapath {
namespace {

namespace fs = std::filesystem;

std::string wbc(const std::string& rel) { return (test::shared_data() / "wbc-bccd" / rel).string(); }

TEST(DatasetSpec, KeepsSelectedClassesInOrderAndCountsTheRest) {
  test::ScratchDir dir;
  test::write_file(dir / "extra.csv", "image,label\n" + wbc("images/BloodImage_00000.jpg") + ",NEUTROPHIL\n" +
                                          wbc("images/BloodImage_00001.jpg") + ",EOSINOPHIL\n" +
                                          wbc("images/BloodImage_00002.jpg") + ",BASOPHIL\n");
  DatasetSpec spec;
  spec.labels_csv = dir / "extra.csv";
  spec.masks = wbc("masks");
  spec.classes = {"EOSINOPHIL", "NEUTROPHIL"};
  LabeledSamples s = load_samples(spec);
  ASSERT_EQ(s.samples.size(), 2u);
  EXPECT_EQ(s.class_names, (std::vector<std::string>{"EOSINOPHIL", "NEUTROPHIL"}));
  EXPECT_EQ(s.samples[0].label, 1);  // NEUTROPHIL is index 1 in the requested order
  EXPECT_EQ(s.samples[1].label, 0);
  EXPECT_EQ(fs::path(s.samples[0].mask_path).filename(), "BloodImage_00000.png");
  EXPECT_EQ(s.skipped.at("class not selected (BASOPHIL)"), 1);

  spec.classes.clear();  // all labels, sorted
  EXPECT_EQ(load_samples(spec).class_names, (std::vector<std::string>{"BASOPHIL", "EOSINOPHIL", "NEUTROPHIL"}));
}

TEST(DatasetSpec, MissingMasksAreSkippedAndUnknownClassesAreErrors) {
  test::ScratchDir dir;
  test::write_file(dir / "l.csv", "image,label\n" + wbc("images/BloodImage_00000.jpg") + ",NEUTROPHIL\n" +
                                      wbc("images/BloodImage_00001.jpg") + ",NEUTROPHIL\n");
  fs::create_directories(dir.path() / "masks");
  fs::copy_file(wbc("masks/BloodImage_00000.png"), dir.path() / "masks" / "BloodImage_00000.png");
  DatasetSpec spec;
  spec.labels_csv = dir / "l.csv";
  spec.masks = dir / "masks";
  LabeledSamples s = load_samples(spec);
  EXPECT_EQ(s.samples.size(), 1u);
  EXPECT_EQ(s.skipped.at("mask file missing"), 1);

  spec.classes = {"NEUTROPHIL", "PROMYELOCYTE"};
  try {
    load_samples(spec);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("PROMYELOCYTE"), std::string::npos) << e.what();
  }
  try {
    load_samples_for_classes(spec, {"LYMPHOCYTE"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'NEUTROPHIL'"), std::string::npos) << e.what();
  }
}

TEST(DatasetSpec, ConfigNeedsExactlyOneSourceAndFoldersAreDetected) {
  auto both = ConfigNode::parse("labels: a.csv\nclass_folders: b\n", "c.yaml");
  EXPECT_THROW(DatasetSpec::from_config(both, "."), ConfigError);
  auto none = ConfigNode::parse("masks: m\n", "c.yaml");
  EXPECT_THROW(DatasetSpec::from_config(none, "."), ConfigError);
  auto rel = ConfigNode::parse("labels: sub/l.csv\nclasses: [A, A]\n", "c.yaml");
  EXPECT_THROW(DatasetSpec::from_config(rel, "base"), ConfigError);  // a class listed twice
  auto ok = ConfigNode::parse("labels: sub/l.csv\n", "c.yaml");
  EXPECT_EQ(DatasetSpec::from_config(ok, "base").labels_csv, "base/sub/l.csv");

  DatasetSpec folder = DatasetSpec::from_folder(wbc(""));
  EXPECT_EQ(fs::path(folder.labels_csv).filename(), "labels.csv");
  EXPECT_FALSE(folder.masks.empty());
  EXPECT_THROW(DatasetSpec::from_folder("/nonexistent/folder"), InputError);

  // Round trip through the model file's JSON.
  DatasetSpec back = DatasetSpec::from_json(folder.to_json());
  EXPECT_EQ(back.labels_csv, folder.labels_csv);
  EXPECT_EQ(back.masks, folder.masks);
}

}  // namespace
}  // namespace hemapath
