// The transfer-learning commands as a user runs them: pretrain an autoencoder, fine-tune a
// classifier from it with frozen stages, and the errors of cv and train --pretrained.
#include <gtest/gtest.h>

#include "test_support.h"

namespace hemapath {
namespace {

using test::contains;

TEST(TransferCli, PretrainThenFineTuneFromTheEncoder) {
  test::ScratchDir dir;
  const std::string images = test::link_wbc_images(dir.path(), 10);
  const std::string pretrain_config = dir / "pretrain.yaml";
  test::write_file(pretrain_config,
                   "data: {images: " + images + ", masks: " + (test::shared_data() / "wbc-bccd" / "masks").string() +
                       ", crop: {size: 32}}\n"
                       "model: {arch: separable_cnn, extra: {width: 0.25}, decoder_width: 32}\n"
                       "train: {epochs: 1, batch_size: 4}\n");
  auto r = test::run_cli("pretrain --config " + pretrain_config + " --out " + (dir / "ae") + " --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "pretrained a separable_cnn autoencoder on 9 unlabelled images (1 held out)"))
      << r.output;

  const std::string config = test::write_tiny_wbc_config(dir.path(), 3, "{epochs: 2, batch_size: 4}", "{enabled: false}");
  r = test::run_cli("train --config " + config + " --out " + (dir / "run") + " --pretrained " + (dir / "ae/autoencoder.hpm") +
                    " --freeze backbone --unfreeze-epoch 2 --unfreeze-lr 0.0001 --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "pretrained: loaded")) << r.output;
  EXPECT_TRUE(contains(r.output, "from autoencoder encoder")) << r.output;
  EXPECT_TRUE(contains(r.output, "head freshly initialised: classifier.bias, classifier.weight")) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "run" / "best.hpm"));
}

TEST(TransferCli, BadTransferInputExitsTwoAndWritesNothing) {
  test::ScratchDir dir;
  const std::string config = test::write_tiny_wbc_config(dir.path(), 2, "{epochs: 1, batch_size: 4}", "{enabled: false}");
  test::write_file(dir / "junk.hpm", "HPM1 but nothing else");
  auto r = test::run_cli("train --config " + config + " --out " + (dir / "run") + " --pretrained " + (dir / "junk.hpm"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "junk.hpm")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run"));

  r = test::run_cli("train --config " + config + " --out " + (dir / "run") + " --freeze 99");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "train.freeze.stages is 99")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run"));

  r = test::run_cli("cv --config " + config + " --compare " + config + " --out " + (dir / "cv"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "needs --scheme 5x2")) << r.output;
  r = test::run_cli("cv --config " + config + " --scheme 3x3 --out " + (dir / "cv"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--scheme")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "cv"));
}

}  // namespace
}  // namespace hemapath
