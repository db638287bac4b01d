#include "hemapath/models/segmenter_registry.h"

#include <functional>
#include <utility>

#include "hemapath/core/error.h"
#include "hemapath/models/deeplabv3.h"
#include "hemapath/models/extra_options.h"
#include "hemapath/models/fcn.h"
#include "hemapath/models/mrn.h"
#include "hemapath/models/segmenter.h"
#include "hemapath/models/unet.h"

namespace hemapath {
namespace {

using SegmenterFactory = std::function<SegmenterPtr(const std::string&, const SegmenterOptions&)>;
using SegmenterFactoryTable = std::vector<std::pair<std::string, SegmenterFactory>>;

void check_common(const std::string& arch, const SegmenterOptions& o) {
  HP_CHECK(o.num_classes >= 1, ConfigError, "option 'num_classes' of '", arch, "' is ", o.num_classes,
           ": expected at least 1 (1 for binary segmentation)");
  HP_CHECK(o.in_channels >= 1, ConfigError, "option 'in_channels' of '", arch, "' is ", o.in_channels,
           ": expected at least 1");
}

SegmenterPtr make_unet(const std::string& arch, const SegmenterOptions& o) {
  check_common(arch, o);
  const ExtraOptions extra(arch, o.extra, {"depth", "width", "upsampling", "encoder"});
  // "" (or absent) is the classic U-Net.
  const std::string encoder = extra.string("encoder", "").empty()
                                  ? ""
                                  : extra.choice("encoder", "", {"resnet18", "resnet34", "resnet50", "efficientnet_b0"});
  const int64_t depth = extra.integer("depth", encoder.empty() ? 4 : 5);
  if (encoder.empty()) {
    HP_CHECK(depth >= 1 && depth <= 8, ConfigError, "option 'extra.depth' of '", arch, "' is ", depth,
             ": expected 1 to 8");
  } else {
    HP_CHECK(depth == 5, ConfigError, "option 'extra.depth' of '", arch, "' is ", depth, ": with encoder '",
             encoder, "' it is the encoder's 5 stages");
  }
  const int64_t width = extra.integer("width", 32);
  HP_CHECK(width >= 1, ConfigError, "option 'extra.width' of '", arch, "' is ", width, ": expected at least 1");
  const std::string upsampling = extra.choice("upsampling", "bilinear", {"bilinear", "transposed"});
  return UNet(UNetOptions()
                  .num_classes(o.num_classes)
                  .in_channels(o.in_channels)
                  .depth(depth)
                  .width(width)
                  .upsampling(upsampling == "bilinear" ? UpsamplingKind::kBilinear : UpsamplingKind::kTransposed)
                  .encoder(encoder))
      .ptr();
}

SegmenterPtr make_mrn(const std::string& arch, const SegmenterOptions& o) {
  check_common(arch, o);
  HP_CHECK(o.in_channels % 2 == 0, ConfigError, "option 'in_channels' of '", arch, "' is ", o.in_channels,
           ": expected an even number (the fine patch's channels, then the context patch's)");
  const ExtraOptions extra(arch, o.extra, {"depth", "width", "context_width", "context_ratio", "upsampling"});
  const std::string upsampling = extra.choice("upsampling", "bilinear", {"bilinear", "transposed"});
  return Mrn(MrnOptions()
                 .num_classes(o.num_classes)
                 .in_channels(o.in_channels / 2)
                 .depth(extra.integer("depth", 4))
                 .width(extra.integer("width", 32))
                 .context_width(extra.integer("context_width", 0))
                 .context_ratio(extra.number("context_ratio", 4.0))
                 .upsampling(upsampling == "bilinear" ? UpsamplingKind::kBilinear : UpsamplingKind::kTransposed))
      .ptr();
}

int64_t backbone_depth(const std::string& arch, const SegmenterOptions& o) {
  check_common(arch, o);
  const ExtraOptions extra(arch, o.extra, {"backbone"});
  const std::string backbone = extra.choice("backbone", "resnet50", {"resnet18", "resnet34", "resnet50"});
  return std::stoll(backbone.substr(6));
}

// The one place segmenters are registered, in the order `segmenter_names` lists them.
void register_segmenters(SegmenterFactoryTable& table) {
  table.emplace_back("unet", make_unet);
  table.emplace_back("mrn", make_mrn);
  table.emplace_back("fcn_resnet50", [](const std::string& arch, const SegmenterOptions& o) -> SegmenterPtr {
    const int64_t depth = backbone_depth(arch, o);
    return Fcn(FcnOptions().num_classes(o.num_classes).in_channels(o.in_channels).backbone_depth(depth)).ptr();
  });
  table.emplace_back("deeplabv3_resnet50", [](const std::string& arch, const SegmenterOptions& o) -> SegmenterPtr {
    const int64_t depth = backbone_depth(arch, o);
    return DeepLabV3(DeepLabV3Options().num_classes(o.num_classes).in_channels(o.in_channels).backbone_depth(depth))
        .ptr();
  });
}

const SegmenterFactoryTable& segmenter_factories() {
  static const SegmenterFactoryTable table = [] {
    SegmenterFactoryTable t;
    register_segmenters(t);
    return t;
  }();
  return table;
}

}  // namespace

SegmenterPtr create_segmenter(const std::string& arch, const SegmenterOptions& options) {
  for (const auto& [name, factory] : segmenter_factories()) {
    if (name == arch) return factory(arch, options);
  }
  std::string valid;
  for (const auto& name : segmenter_names()) valid += (valid.empty() ? "" : ", ") + name;
  throw InputError("unknown segmentation architecture '" + arch + "': expected one of " + valid);
}

std::vector<std::string> segmenter_names() {
  std::vector<std::string> names;
  for (const auto& entry : segmenter_factories()) names.push_back(entry.first);
  return names;
}

}  // namespace hemapath
