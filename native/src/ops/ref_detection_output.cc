// detection_output: OpenVINO DetectionOutput-1/-8 (Caffe SSD) on three inputs.
//   loc    [N, P·L·4]  box offsets, L = 1 (shareLocation) or numClasses
//   conf   [N, P·C]    class scores per prior
//   priors [1|N, 1|2, P·S]  row 0: prior boxes (S = 4, or 5 with a leading id when not
//          normalized), row 1: 4 variances per prior (absent when encoded in the target)
// Per image: decode boxes, per class keep scores > confidenceThreshold, best topK, greedy NMS
// (IoU > nmsThreshold suppresses), then the best keepTopK over all classes. Rows are
// (image, label, conf, xmin, ymin, xmax, ymax), grouped by image, then by ascending label, then
// by descending score; after the last one a row with image = -1 ends the list, the rest is 0.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>

#include "detection_output_spec.h"
#include "op.h"

namespace dynbatch {
namespace {

struct Box {
  float xmin, ymin, xmax, ymax;
};

float area(const Box& b) {
  if (b.xmax < b.xmin || b.ymax < b.ymin) return 0.f;
  return (b.xmax - b.xmin) * (b.ymax - b.ymin);
}

// Intersection over union of normalized boxes (no +1 on widths: coordinates are fractions).
float iou(const Box& a, const Box& b) {
  if (b.xmin > a.xmax || b.xmax < a.xmin || b.ymin > a.ymax || b.ymax < a.ymin) return 0.f;
  const float w = std::min(a.xmax, b.xmax) - std::max(a.xmin, b.xmin);
  const float h = std::min(a.ymax, b.ymax) - std::max(a.ymin, b.ymin);
  if (w <= 0.f || h <= 0.f) return 0.f;
  const float inter = w * h;
  return inter / (area(a) + area(b) - inter);
}

float clip01(float v) { return std::max(0.f, std::min(1.f, v)); }

struct Detection {
  float score;
  int label;
  int prior;
  Box box;
};

// Higher score first; ties by lower prior index, then lower label (deterministic order).
bool better(const Detection& a, const Detection& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.prior != b.prior) return a.prior < b.prior;
  return a.label < b.label;
}

class DetectionOutputOp : public Op {
 public:
  explicit DetectionOutputOp(const OpSpec& spec) : name_(spec.name), d_(parseDetectionOutput(spec)) {}

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Tensor& loc = in[0];
    const Tensor& conf = in[1];
    const Tensor& priors = in[2];
    const int64_t images = loc.shape[0];
    if (conf.shape[0] != images) throw OpError(name_, "detection_output: loc and conf differ in batch at run time");
    if (priors.shape[0] != 1 && priors.shape[0] != images)
      throw OpError(name_, "detection_output: priors batch is neither 1 nor the images' batch");
    const int64_t rows = out[0].shape[2];
    std::vector<std::vector<Detection>> perImage(images);
#pragma omp parallel for schedule(dynamic) if (images > 1)
    for (int64_t i = 0; i < images; ++i) {
      const float* pri = priors.data + (priors.shape[0] == 1 ? 0 : i) * priors.shape[1] * priors.shape[2];
      perImage[i] = detect(loc.data + i * loc.shape[1], conf.data + i * conf.shape[1], pri, priors.shape[2]);
    }
    float* dst = out[0].data;
    std::memset(dst, 0, static_cast<size_t>(out[0].size()) * sizeof(float));
    int64_t count = 0;
    for (int64_t i = 0; i < images && count < rows; ++i) {
      for (const Detection& d : perImage[i]) {
        if (count >= rows) break;
        Box b = d.box;
        if (d_.clipAfter) b = {clip01(b.xmin), clip01(b.ymin), clip01(b.xmax), clip01(b.ymax)};
        float* r = dst + count * 7;
        r[0] = static_cast<float>(i);
        r[1] = static_cast<float>(d_.decreaseLabel ? d.label - 1 : d.label);
        r[2] = d.score;
        r[3] = b.xmin;
        r[4] = b.ymin;
        r[5] = b.xmax;
        r[6] = b.ymax;
        ++count;
      }
    }
    if (count < rows) dst[count * 7] = -1.f;
  }

 private:
  // Decoded (and, with clipBeforeNms, clipped) box of one prior for location class c.
  Box decode(const float* loc, const float* priors, int64_t rowLen, int64_t c, int64_t p) const {
    const int64_t locClasses = d_.shareLocation ? 1 : d_.numClasses;
    const float* t = loc + (p * locClasses + c) * 4;
    const int64_t priorSize = d_.normalized ? 4 : 5;
    const float* pb = priors + p * priorSize + (d_.normalized ? 0 : 1);
    float pxmin = pb[0], pymin = pb[1], pxmax = pb[2], pymax = pb[3];
    if (!d_.normalized) {
      pxmin /= d_.inputWidth;
      pymin /= d_.inputHeight;
      pxmax /= d_.inputWidth;
      pymax /= d_.inputHeight;
    }
    float v[4] = {1.f, 1.f, 1.f, 1.f};
    if (!d_.varianceInTarget) {
      const float* pv = priors + rowLen + p * 4;
      for (int k = 0; k < 4; ++k) v[k] = pv[k];
    }
    const float pw = pxmax - pxmin, ph = pymax - pymin;
    Box b{};
    switch (d_.code) {
      case BoxCode::Corner: b = {pxmin + v[0] * t[0], pymin + v[1] * t[1], pxmax + v[2] * t[2], pymax + v[3] * t[3]}; break;
      case BoxCode::CornerSize:
        b = {pxmin + v[0] * t[0] * pw, pymin + v[1] * t[1] * ph, pxmax + v[2] * t[2] * pw, pymax + v[3] * t[3] * ph};
        break;
      case BoxCode::CenterSize: {
        const float cx = v[0] * t[0] * pw + (pxmin + pxmax) / 2;
        const float cy = v[1] * t[1] * ph + (pymin + pymax) / 2;
        const float w = std::exp(v[2] * t[2]) * pw;
        const float h = std::exp(v[3] * t[3]) * ph;
        b = {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
        break;
      }
    }
    if (d_.clipBefore) b = {clip01(b.xmin), clip01(b.ymin), clip01(b.xmax), clip01(b.ymax)};
    return b;
  }

  // Greedy NMS over candidates already sorted best first: a candidate survives when its IoU
  // with every kept box of the same class is at most nmsThreshold. Only candidates get decoded.
  void nms(std::vector<Detection>& cands, const float* loc, const float* priors, int64_t rowLen,
           std::vector<Detection>& kept) const {
    const size_t first = kept.size();
    for (Detection& d : cands) {
      d.box = decode(loc, priors, rowLen, d_.shareLocation ? 0 : d.label, d.prior);
      bool keep = true;
      for (size_t k = first; k < kept.size() && keep; ++k)
        if (iou(d.box, kept[k].box) > d_.nmsThreshold) keep = false;
      if (keep) kept.push_back(d);
    }
  }

  // Sorts best first and keeps at most topK (a partial sort: SSD heads score most priors).
  void best(std::vector<Detection>& cands) const {
    if (d_.topK > -1 && static_cast<int64_t>(cands.size()) > d_.topK) {
      std::partial_sort(cands.begin(), cands.begin() + d_.topK, cands.end(), better);
      cands.resize(d_.topK);
    } else {
      std::sort(cands.begin(), cands.end(), better);
    }
  }

  std::vector<Detection> detect(const float* loc, const float* conf, const float* priors, int64_t rowLen) const {
    const int64_t P = d_.numPriors, C = d_.numClasses;
    std::vector<Detection> kept;
    std::vector<Detection> cands;
    if (!d_.decreaseLabel) {
      // Caffe style: each class on its own.
      for (int64_t c = 0; c < C; ++c) {
        if (c == d_.background) continue;
        cands.clear();
        for (int64_t p = 0; p < P; ++p) {
          const float s = conf[p * C + c];
          if (s > d_.confThreshold) cands.push_back({s, static_cast<int>(c), static_cast<int>(p), {}});
        }
        best(cands);
        nms(cands, loc, priors, rowLen, kept);
      }
    } else {
      // MXNet style: each prior votes for its best non-background class (label 0 never wins).
      for (int64_t p = 0; p < P; ++p) {
        float top = -1.f;
        int64_t id = 0;
        for (int64_t c = 1; c < C; ++c) {
          if (c == d_.background) continue;
          const float s = conf[p * C + c];
          if (s > top) {
            top = s;
            id = c;
          }
        }
        if (id > 0 && top >= d_.confThreshold) cands.push_back({top, static_cast<int>(id), static_cast<int>(p), {}});
      }
      best(cands);
      std::map<int, std::vector<Detection>> perClass;
      for (const Detection& d : cands) perClass[d.label].push_back(d);
      for (auto& kv : perClass) nms(kv.second, loc, priors, rowLen, kept);
    }
    if (d_.keepTopK > -1 && static_cast<int64_t>(kept.size()) > d_.keepTopK) {
      std::partial_sort(kept.begin(), kept.begin() + d_.keepTopK, kept.end(), better);
      kept.resize(d_.keepTopK);
    }
    // Output order: ascending label, best score first within a label.
    std::sort(kept.begin(), kept.end(), [](const Detection& a, const Detection& b) {
      if (a.label != b.label) return a.label < b.label;
      return better(a, b);
    });
    return kept;
  }

  std::string name_;
  const DetectionOutputSpec d_;
};

std::unique_ptr<Op> makeDetectionOutput(const OpSpec& spec) { return std::make_unique<DetectionOutputOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("detection_output", makeDetectionOutput);

}  // namespace dynbatch
