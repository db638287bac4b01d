#pragma once
/// Importing weights by name from PyTorch state dicts, e.g. torchvision's pretrained weights
/// converted once by scripts/convert_torchvision_weights.py (format: docs/file-formats.md).
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace hemapath {

/// Named tensors, as in a PyTorch state dict.
using StateDict = std::map<std::string, torch::Tensor>;

/// Reads a state dict saved by PyTorch's `torch.save(dict_of_tensors, path)` (the zip format,
/// PyTorch >= 1.6), e.g. by scripts/convert_torchvision_weights.py. Tensors come back on the
/// CPU with the dtype and shape they were saved with. ModelFileError naming the file when it is
/// missing, not such a file, or holds anything but a dict of name -> tensor.
StateDict read_state_dict(const std::string& path);

/// A module's parameters and buffers by name (detached, on their device), as PyTorch's
/// `state_dict()` lists them.
StateDict state_dict_of(const torch::nn::Module& module);

/// What `import_state_dict` did, name by name (each list sorted).
struct ImportReport {
  std::vector<std::string> loaded;          ///< copied into the module
  std::vector<std::string> missing;         ///< in the module, not in the dict
  std::vector<std::string> unexpected;      ///< in the dict, not in the module
  std::vector<std::string> shape_mismatch;  ///< "name: [a,b] vs [c,d]" (dict vs module)
};

/// Copies tensors into `module`'s parameters and buffers by name (no grad; shape and dtype
/// must match exactly; values move to the module tensor's device). With strict=true any missing,
/// unexpected or mismatched name is a ModelFileError naming `source` and listing the first few,
/// thrown before anything is copied; with strict=false they are only reported and every
/// matching tensor is copied (fine-tuning with a new head).
ImportReport import_state_dict(torch::nn::Module& module, const StateDict& weights, bool strict,
                               const std::string& source);

}  // namespace hemapath
