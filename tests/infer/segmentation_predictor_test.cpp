// Whole-image segmentation: tiles stitch to the whole-image result, probabilities are proper,
// the argmax map is right, and any image size (1x1 included) comes back at its own size.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/infer/segmentation_predictor.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/segmenter_registry.h"
#include "test_support.h"

namespace hemapath {
namespace {

SegmenterPtr small_unet(int64_t classes) {
  torch::manual_seed(11);
  SegmenterOptions options;
  options.num_classes = classes;
  options.extra = {{"depth", 2}, {"width", 4}};
  SegmenterPtr model = create_segmenter("unet", options);
  model->eval();
  return model;
}

TEST(SegmentationPredictor, TilesStitchToTheWholeImageResult) {
  torch::set_num_threads(1);
  SegmenterPtr model = small_unet(3);
  torch::manual_seed(2);
  const torch::Tensor image = torch::randn({3, 150, 130});
  const torch::Tensor whole = segment_probabilities(*model, false, image, torch::kCPU);
  ASSERT_EQ(whole.sizes(), (std::vector<int64_t>{3, 150, 130}));
  EXPECT_TRUE(torch::allclose(whole.sum(0), torch::ones({150, 130}), 1e-5, 1e-5));
  // Tiles of 64 px keeping all but 24 px at inner edges: 5 x 4 tiles, the last ones flush with
  // the padded border. The receptive field of this U-Net is about 22 px.
  const torch::Tensor tiled = segment_probabilities(*model, false, image, torch::kCPU, 64, 24);
  EXPECT_LT((tiled - whole).abs().max().item<double>(), 2e-4);  // float rounding of other tensor sizes only
  // Too little overlap shows: the check above can fail.
  const torch::Tensor seams = segment_probabilities(*model, false, image, torch::kCPU, 64, 0);
  EXPECT_GT((seams - whole).abs().max().item<double>(), 1e-2);

  EXPECT_THROW(segment_probabilities(*model, false, image, torch::kCPU, 62, 8), ConfigError);  // not a stride multiple
  EXPECT_THROW(segment_probabilities(*model, false, image, torch::kCPU, 64, 32), ConfigError);  // nothing kept
  EXPECT_THROW(segment_probabilities(*model, false, torch::zeros({150, 130}), torch::kCPU), InputError);
}

TEST(SegmentationPredictor, BinaryNetworksGiveBothClassProbabilities) {
  SegmenterPtr model = small_unet(1);
  const torch::Tensor image = torch::randn({3, 20, 36});
  const torch::Tensor p = segment_probabilities(*model, true, image, torch::kCPU);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{2, 20, 36}));
  torch::Tensor logits;
  {
    torch::NoGradGuard guard;
    logits = model->forward(image.unsqueeze(0))[0][0];
  }
  EXPECT_TRUE(torch::allclose(p[1], torch::sigmoid(logits), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(p[0] + p[1], torch::ones({20, 36}), 1e-6, 1e-6));
}

TEST(SegmentationPredictor, MostProbableClassPerPixel) {
  cv::Mat a = (cv::Mat_<float>(1, 3) << 0.5f, 0.1f, 0.2f);
  cv::Mat b = (cv::Mat_<float>(1, 3) << 0.3f, 0.8f, 0.2f);
  cv::Mat c = (cv::Mat_<float>(1, 3) << 0.2f, 0.1f, 0.6f);
  const cv::Mat classes = most_probable_class({a, b, c});
  EXPECT_EQ(classes.type(), CV_8U);
  EXPECT_EQ(classes.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(classes.at<uint8_t>(0, 1), 1);
  EXPECT_EQ(classes.at<uint8_t>(0, 2), 2);
  EXPECT_THROW(most_probable_class({}), InputError);
}

TEST(SegmentationPredictor, MostProbableClassOfScoreTensorsAgreesWithArgmax) {
  torch::manual_seed(3);
  const torch::Tensor scores = torch::randn({2, 5, 7, 9});
  for (int64_t dim : {0, 1, 3}) {
    const torch::Tensor classes = most_probable_class(scores, dim);
    EXPECT_EQ(classes.scalar_type(), torch::kUInt8);
    EXPECT_TRUE(classes.is_contiguous());
    EXPECT_TRUE(torch::equal(classes, scores.argmax(dim).to(torch::kUInt8))) << "dim " << dim;
  }
  // The first of tied classes, as argmax gives.
  EXPECT_EQ(most_probable_class(torch::tensor({{0.2f, 0.4f, 0.4f}}), 1).item<uint8_t>(), 1);
  EXPECT_THROW(most_probable_class(torch::zeros({1, 257}), 1), InputError);
}

TEST(SegmentationPredictor, ModelFilesSegmentAnyImageSizeAtItsOwnSize) {
  test::ScratchDir dir;
  SegmenterHeader header;
  header.arch = "unet";
  header.options.num_classes = 3;
  header.options.extra = {{"depth", 2}, {"width", 4}};
  header.classes = {"background", "cytoplasm", "nucleus"};
  header.scale = 0.5;
  header.output_stride = 4;
  header.instances = nlohmann::json::object();
  SegmenterPtr model = small_unet(3);
  const std::string path = dir / "seg.hpm";
  save_model_file(path, header.to_json(), *model);

  SegmentationPredictor predictor(path, torch::kCPU);
  EXPECT_EQ(predictor.header().classes, header.classes);
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(3, 2), cv::Size(101, 57)}) {
    const cv::Mat rgb(size, CV_8UC3, cv::Scalar(120, 40, 200));
    const SegmentationMaps maps = predictor.predict(rgb);
    ASSERT_EQ(maps.probabilities.size(), 3u);
    EXPECT_EQ(maps.classes.size(), size);
    EXPECT_EQ(maps.foreground().size(), size);
  }
  EXPECT_THROW(predictor.predict(cv::Mat()), InputError);
  EXPECT_THROW(predictor.predict(cv::Mat(4, 4, CV_8UC1)), InputError);

  // A header whose classes do not match its outputs is the file's fault.
  header.classes = {"background", "cell"};
  save_model_file(path, header.to_json(), *model);
  EXPECT_THROW(SegmentationPredictor(path, torch::kCPU), ModelFileError);
}

TEST(SegmentationPredictor, BoundaryModelsGrowCellsFromTheirPredictedInteriors) {
  test::ScratchDir dir;
  SegmenterHeader header;
  header.arch = "unet";
  header.options.num_classes = 3;
  header.options.extra = {{"depth", 2}, {"width", 4}};
  header.classes = {"background", "cell", "boundary"};
  header.target = "boundary";
  header.output_stride = 4;
  const std::string path = dir / "boundary.hpm";
  save_model_file(path, header.to_json(), *small_unet(3));
  SegmentationPredictor predictor(path, torch::kCPU);
  EXPECT_EQ(predictor.header().target, "boundary");

  // Maps of two touching discs whose interiors (class 1) are apart, the rim and waist boundary (2).
  cv::Mat classes = cv::Mat::zeros(40, 64, CV_8U);
  cv::circle(classes, {20, 20}, 12, cv::Scalar(2), cv::FILLED);
  cv::circle(classes, {40, 20}, 12, cv::Scalar(2), cv::FILLED);
  cv::circle(classes, {20, 20}, 7, cv::Scalar(1), cv::FILLED);
  cv::circle(classes, {40, 20}, 7, cv::Scalar(1), cv::FILLED);
  SegmentationMaps maps;
  maps.classes = classes;
  for (int c = 0; c < 3; ++c) {
    cv::Mat p;
    cv::Mat(classes == c).convertTo(p, CV_32F, 1.0 / 255);
    maps.probabilities.push_back(p);
  }
  InstanceOptions options;
  EXPECT_EQ(count_instances(predictor.cells(maps, options)), 2);
  options.watershed = false;  // connected components of the foreground: one blob
  EXPECT_EQ(count_instances(predictor.cells(maps, options)), 1);

  header.classes = {"background", "cell"};  // a boundary model needs its three classes
  header.options.num_classes = 1;
  save_model_file(path, header.to_json(), *small_unet(1));
  EXPECT_THROW(SegmentationPredictor(path, torch::kCPU), ModelFileError);
}

}  // namespace
}  // namespace hemapath
