#pragma once
/// Counter-measures for class imbalance (e.g. 207 neutrophils vs 3 basophils in BCCD):
/// loss weights and class-balanced sampling.
#include <cstddef>
#include <vector>

#include "hemapath/core/random.h"

namespace hemapath {

/// Inverse-frequency class weights w_c = (n / (k * n_c))^power (k = num_classes), classes
/// absent from `labels` given 0. power 1 balances the classes fully; 0.5 (square root) is the
/// milder counter-weight that costs the common classes less recall. InputError when labels
/// are empty or a label is outside [0, num_classes).
std::vector<double> class_weights(const std::vector<int>& labels, int num_classes, double power = 1);

/// An epoch's sample order (indices into `labels`) drawn with replacement so each class
/// present is equally likely (class-balanced sampling): a class uniformly, then a sample
/// of it uniformly. `count` draws. InputError as for class_weights.
std::vector<size_t> balanced_order(const std::vector<int>& labels, int num_classes, size_t count,
                                   Rng& rng);

/// One epoch's order of the dataset indices `train` (`labels` indexed by dataset index): a
/// shuffle, or with `balanced` as many class-balanced draws; seeded by (seed, epoch) alone.
std::vector<size_t> epoch_training_order(const std::vector<size_t>& train, const std::vector<int>& labels,
                                         int num_classes, bool balanced, uint64_t seed, int epoch);

}  // namespace hemapath
