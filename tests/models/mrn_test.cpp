// The multi-resolution network: shapes and stride, both upsampling kinds, the context branch
// shaping the output (and learning), and the registry's checks.
#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/models/mrn.h"
#include "hemapath/models/segmenter_registry.h"

namespace hemapath {
namespace {

SegmenterPtr make_mrn(const std::string& upsampling, int64_t in_channels = 6) {
  SegmenterOptions o;
  o.num_classes = 2;
  o.in_channels = in_channels;
  o.extra = {{"depth", 3}, {"width", 4}, {"context_ratio", 4}, {"upsampling", upsampling}};
  return create_segmenter("mrn", o);
}

TEST(Mrn, ShapesStrideAndBothUpsamplings) {
  for (const char* kind : {"bilinear", "transposed"}) {
    torch::manual_seed(1);
    SegmenterPtr model = make_mrn(kind);
    EXPECT_EQ(model->output_stride(), 8);
    const torch::Tensor y = model->forward(torch::randn({2, 6, 64, 48}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 2, 64, 48})) << kind;
    bool has_transposed = false;
    for (const auto& p : model->named_parameters()) has_transposed |= p.key().find(".up.weight") != std::string::npos;
    EXPECT_EQ(has_transposed, std::string(kind) == "transposed");
    EXPECT_THROW(model->forward(torch::randn({1, 3, 64, 64})), InputError) << "a fine patch alone is not enough";
  }
}

TEST(Mrn, ContextChangesTheOutputOnlyThroughItsCentre) {
  torch::manual_seed(2);
  SegmenterPtr model = make_mrn("bilinear");
  model->eval();
  torch::NoGradGuard guard;
  const torch::Tensor fine = torch::randn({1, 3, 64, 64}), context = torch::randn({1, 3, 64, 64});
  const torch::Tensor y = model->forward(torch::cat({fine, context}, 1));
  // Another context changes the prediction: the decoder uses it.
  EXPECT_GT((model->forward(torch::cat({fine, torch::randn({1, 3, 64, 64})}, 1)) - y).abs().max().item<double>(), 1e-3);
  // The fine patch's field of view is the central quarter: at level 0 only its 16 x 16 px are
  // joined, so pixels far out in the context reach the output only through the receptive
  // fields of deeper levels, and a change in one corner pixel changes much less than a centre one.
  torch::Tensor corner = context.clone(), centre = context.clone();
  corner.index_put_({0, torch::indexing::Slice(), 0, 0}, 10.0);
  centre.index_put_({0, torch::indexing::Slice(), 32, 32}, 10.0);
  const double corner_change = (model->forward(torch::cat({fine, corner}, 1)) - y).abs().sum().item<double>();
  const double centre_change = (model->forward(torch::cat({fine, centre}, 1)) - y).abs().sum().item<double>();
  EXPECT_LT(corner_change, centre_change);
}

TEST(Mrn, GradientsReachTheContextEncoder) {
  torch::manual_seed(3);
  SegmenterPtr model = make_mrn("transposed");
  const torch::Tensor y = model->forward(torch::randn({2, 6, 32, 32}));
  y.pow(2).mean().backward();
  double context_grad = 0;
  for (const auto& p : model->named_parameters())
    if (p.key().rfind("context.", 0) == 0 && p.value().grad().defined()) context_grad += p.value().grad().abs().sum().item<double>();
  EXPECT_GT(context_grad, 0);
}

TEST(Mrn, RegistryChecksOptions) {
  EXPECT_THROW(make_mrn("bilinear", 3), ConfigError);  // fine + context channels must pair up
  SegmenterOptions o;
  o.in_channels = 6;
  o.extra = {{"context_ratio", 1}};
  EXPECT_THROW(create_segmenter("mrn", o), ConfigError);
  o.extra = {{"contxt_ratio", 4}};
  EXPECT_THROW(create_segmenter("mrn", o), ConfigError);
  const auto names = segmenter_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "mrn"), names.end());
}

}  // namespace
}  // namespace hemapath
