#include <gtest/gtest.h>

#include "hemapath/core/config.h"
#include "test_support.h"

namespace hemapath {

TEST(ConfigNode, ReadsTypedValuesFromYaml) {
  auto c = ConfigNode::parse("epochs: 12\nlr: 0.001\nname: resnet18\nflag: true\nsub: {a: 3}\n", "t.yaml");
  EXPECT_EQ(c.get_int("epochs", 1, 1, 100), 12);
  EXPECT_DOUBLE_EQ(c.get_number("lr", 0.1, 0, 1), 0.001);
  EXPECT_EQ(c.get<std::string>("name", ""), "resnet18");
  EXPECT_TRUE(c.get<bool>("flag", false));
  EXPECT_EQ(c.child("sub").get_int("a", 0, 0, 9), 3);
  EXPECT_EQ(c.get_int("missing", 7, 0, 9), 7);
  EXPECT_NO_THROW(c.finish());
}

TEST(ConfigNode, JsonIsAcceptedToo) {
  auto c = ConfigNode::parse(R"({"epochs": 3, "arch": "resnet18"})", "t.json");
  EXPECT_EQ(c.get_int("epochs", 1, 1, 100), 3);
  EXPECT_EQ(c.get<std::string>("arch", ""), "resnet18");
}

TEST(ConfigNode, UnknownKeyIsNamed) {
  auto c = ConfigNode::parse("train:\n  epochs: 3\n  lrr: 0.1\n", "t.yaml");
  auto t = c.child("train");
  t.get_int("epochs", 1, 1, 10);
  try {
    c.finish();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'train.lrr'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t.yaml"), std::string::npos) << e.what();
  }
}

TEST(ConfigNode, WrongTypeAndRangeAndChoiceAreNamed) {
  auto c = ConfigNode::parse("epochs: many\nlr: -1\nopt: adamm\nbatch: 2.5\n", "bad.yaml");
  EXPECT_THROW(c.get_int("epochs", 1, 1, 10), ConfigError);
  try {
    c.get_number("lr", 0.1, 0, 1);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'lr'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos);
  }
  try {
    c.get_choice("opt", "adam", {"adam", "adamw", "sgd"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("adam, adamw, sgd"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.get_int("batch", 1, 1, 10), ConfigError);
}

TEST(ConfigNode, PathsInTheFileAreFromItsFolderAndPathsOnTheCommandLineFromTheWorkingDirectory) {
  test::ScratchDir dir;
  const std::string file = dir / "cfg.yaml";
  test::write_file(file, "data: {labels: ../crops/labels.csv, images: /abs/images, masks: m}\n");
  ConfigNode from_file = ConfigNode::load_file(file, {});
  const ConfigNode data = from_file.child("data");
  EXPECT_EQ(data.get_path("labels", "configs"), "crops/labels.csv");
  EXPECT_EQ(data.get_path("images", "configs"), "/abs/images");
  EXPECT_EQ(data.get_path("missing", "configs"), "");
  EXPECT_THROW(data.get_path("missing", "configs", true), ConfigError);

  const ConfigNode overridden =
      ConfigNode::load_file(file, {"data.labels=lab/labels.csv", "data.images=/other/images"}).child("data");
  EXPECT_EQ(overridden.get_path("labels", "configs"), "lab/labels.csv");
  EXPECT_EQ(overridden.get_path("images", "configs"), "/other/images");
  EXPECT_EQ(overridden.get_path("masks", "configs"), "configs/m");  // still the file's own value
}

TEST(ConfigNode, UnreadableFilesAreErrors) {
  EXPECT_THROW(ConfigNode::load_file("/nonexistent/x.yaml"), ConfigError);
  EXPECT_THROW(ConfigNode::parse("a: [1, 2\n", "broken.yaml"), ConfigError);
  EXPECT_THROW(ConfigNode::parse("- 1\n- 2\n", "list.yaml"), ConfigError);
}

}  // namespace hemapath
