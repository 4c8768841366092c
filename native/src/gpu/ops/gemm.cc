// GPU matmul and convolution through CLBlast's strided-batched SGEMM (one CLBlast routine, so
// one CLBlast program to compile per context); convolution lowers to im2col + GEMM, 1x1
// convolutions multiply the input directly; grouped/depthwise convolutions and
// deconvolutions, whose per-group GEMMs would be tiny, run direct kernels.
#include <clblast_c.h>

#include <algorithm>

#include "gpu/gpu_op.h"

namespace dynbatch {
namespace gpu {
namespace {

// Column buffer budget for im2col: images are processed in chunks that fit it.
constexpr int64_t kColumnFloats = int64_t{16} << 20;

struct Operand {
  cl_mem mem;
  size_t offset, ld, stride;
};

// C[i] = A[i] · B[i] for i < batch, row-major and untransposed, on the run's queue.
void gemm(Run& r, DeviceContext& dev, const std::string& layer, size_t M, size_t N, size_t K, const Operand& a, const Operand& b,
          const Operand& c, size_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  if (K == 0) throw OpError(layer, "matrix product over an empty dimension");
  CLBlastStatusCode s;
  {
    std::lock_guard<std::mutex> lock(dev.blasMutex());
    cl_command_queue q = r.queue;
    s = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, M, N, K, 1.0f, a.mem, a.offset,
                                   a.ld, a.stride, b.mem, b.offset, b.ld, b.stride, 0.0f, c.mem, c.offset, c.ld, c.stride, batch,
                                   &q, nullptr);
  }
  if (s == CLBlastSuccess) return;
  // OpenCL statuses pass through CLBlast unchanged; its own start at -1000.
  if (s > -1000) check(s, "CLBlast SGEMM");
  throw ClError(ClError::Kind::Runtime, s,
                "CLBlast SGEMM (M=" + std::to_string(M) + ", N=" + std::to_string(N) + ", K=" + std::to_string(K) + ", batch " +
                    std::to_string(batch) + ") failed with status " + std::to_string(s));
}

struct Geometry {
  int64_t C, H, W, O, OH, OW, KH, KW, sh, sw, ph, pw, dh, dw, group;
};

Geometry geometry(const OpSpec& spec, const Shape& x, const Shape& y, const Shape& w, bool deconv) {
  if (x.size() != 4 || y.size() != 4) throw OpError(spec.name, "only 2-D (de)convolution is implemented on GPU");
  if (w.size() != 4) throw OpError(spec.name, "weights must be [O|C, C/g|O/g, kh, kw]");
  const Attrs& a = spec.attrs;
  auto pair = [&](const char* k, int64_t def) {
    std::vector<int64_t> v = a.ints(k, {def, def});
    if (v.size() != 2) throw OpError(spec.name, std::string(k) + " needs 2 values");
    return v;
  };
  const auto st = pair("strides", 1), dil = pair("dilations", 1), pb = pair("padsBegin", 0);
  Geometry g{x[1], x[2], x[3], y[1], y[2], y[3], w[2], w[3], st[0], st[1], pb[0], pb[1], dil[0], dil[1], a.integer("group", 1)};
  if (g.group < 1 || g.C % g.group || g.O % g.group) throw OpError(spec.name, "channels are not divisible by group");
  if (st[0] < 1 || st[1] < 1 || dil[0] < 1 || dil[1] < 1) throw OpError(spec.name, "strides and dilations must be >= 1");
  const int64_t expect = deconv ? g.C * (g.O / g.group) : g.O * (g.C / g.group);
  if (w[0] * w[1] != expect) throw OpError(spec.name, "weights do not match the channels and group");
  return g;
}

class ConvOp : public GpuOp {
 public:
  ConvOp(const OpSpec& spec, Builder& b, bool deconv) : name_(spec.name), dev_(b.device()) {
    if (spec.inputs.size() < 2 || spec.inputs.size() > 3 || spec.outputs.size() != 1)
      throw OpError(name_, "(de)convolution needs inputs x, w[, b] and 1 output");
    if (!spec.inputs[1]->constant) throw OpError(name_, "weights must be constant");
    if (spec.inputs.size() == 3 && numel(spec.inputs[2]->maxShape) != spec.outputs[0]->maxShape.at(1))
      throw OpError(name_, "bias must hold one value per output channel");
    g_ = geometry(spec, spec.inputs[0]->maxShape, spec.outputs[0]->maxShape, spec.inputs[1]->maxShape, deconv);
    hasBias_ = spec.inputs.size() == 3;
    const int64_t og = g_.O / g_.group, kg = (g_.C / g_.group) * g_.KH * g_.KW;
    if (deconv || (g_.group > 1 && (og < 16 || kg < 16))) {
      direct_ = b.kernel(deconv ? "deconv_direct" : "conv_direct");
      return;
    }
    pointwise_ = g_.KH == 1 && g_.KW == 1 && g_.sh == 1 && g_.sw == 1 && g_.ph == 0 && g_.pw == 0;
    if (!pointwise_) {
      im2col_ = b.kernel("im2col");
      const int64_t perImage = g_.C * g_.KH * g_.KW * g_.OH * g_.OW;
      chunk_ =
          std::max<int64_t>(1, std::min<int64_t>(spec.inputs[0]->maxShape[0], kColumnFloats / std::max<int64_t>(perImage, 1)));
      toInt(chunk_ * perImage, name_);
    }
    if (hasBias_) bias_ = b.kernel("channel_affine");
  }

  size_t scratchBytes() const override {
    return pointwise_ || direct_ ? 0 : static_cast<size_t>(chunk_ * g_.C * g_.KH * g_.KW * g_.OH * g_.OW) * sizeof(float);
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const int64_t n = in[0].shape[0];
    const Geometry& g = g_;
    const int count = toInt(out[0].size(), name_);
    if (direct_) {
      direct_->launch(r.queue, out[0].size(), in[0].mem, in[1].mem, hasBias_ ? in[2].mem : in[1].mem, cl_int{hasBias_ ? 1 : 0},
                      out[0].mem, count, i(g.C), i(g.H), i(g.W), i(g.O), i(g.OH), i(g.OW), i(g.KH), i(g.KW), i(g.sh), i(g.sw),
                      i(g.ph), i(g.pw), i(g.dh), i(g.dw), i(g.group));
      return;
    }
    const size_t OHW = static_cast<size_t>(g.OH * g.OW), og = static_cast<size_t>(g.O / g.group);
    const size_t kg = static_cast<size_t>((g.C / g.group) * g.KH * g.KW), K = kg * static_cast<size_t>(g.group);
    for (int64_t first = 0; first < n; first += pointwise_ ? n : chunk_) {
      const int64_t images = pointwise_ ? n : std::min(chunk_, n - first);
      if (!pointwise_)
        im2col_->launch(r.queue, static_cast<size_t>(images) * K * OHW, in[0].mem, i(first * g.C * g.H * g.W), r.scratch,
                        toInt(images * static_cast<int64_t>(K * OHW), name_), i(g.C), i(g.H), i(g.W), i(g.KH), i(g.KW), i(g.OH),
                        i(g.OW), i(g.sh), i(g.sw), i(g.ph), i(g.pw), i(g.dh), i(g.dw));
      for (int64_t gi = 0; gi < g.group; ++gi) {
        const size_t G = static_cast<size_t>(gi);
        // W [O, kg] per group; columns [K, OHW] per image (the input itself when pointwise).
        Operand w{in[1].mem, G * og * kg, kg, 0};
        Operand col =
            pointwise_ ? Operand{in[0].mem, G * kg * OHW, OHW, K * OHW} : Operand{r.scratch, G * kg * OHW, OHW, K * OHW};
        Operand y{out[0].mem, (static_cast<size_t>(first) * g.O + G * og) * OHW, OHW, static_cast<size_t>(g.O) * OHW};
        gemm(r, dev_, name_, og, OHW, kg, w, col, y, static_cast<size_t>(images));
      }
    }
    if (hasBias_)
      bias_->launch(r.queue, out[0].size(), out[0].mem, out[0].mem, count, i(g.O), toInt(OHW, name_), in[2].mem, cl_int{0},
                    in[2].mem);
  }

 private:
  cl_int i(int64_t v) const { return toInt(v, name_); }

  std::string name_;
  DeviceContext& dev_;
  Geometry g_{};
  bool hasBias_ = false, pointwise_ = false;
  int64_t chunk_ = 1;
  std::unique_ptr<Kernel> direct_, im2col_, bias_;
};

// Numpy matmul: leading dims broadcast. Transposed operands are turned into plain row-major
// ones first (constants once at compile time, activations into scratch per run), so every GEMM
// is the untransposed one: CLBlast compiles a kernel per transpose variant, slowly on pocl.
class MatMulOp : public GpuOp {
 public:
  MatMulOp(const OpSpec& spec, Builder& b) : name_(spec.name), dev_(b.device()) {
    if (spec.inputs.size() != 2 || spec.outputs.size() != 1) throw OpError(name_, "matmul needs 2 inputs and 1 output");
    trans_[0] = spec.attrs.integer("transposeA", 0) != 0;
    trans_[1] = spec.attrs.integer("transposeB", 0) != 0;
    const Shape& a = spec.inputs[0]->maxShape;
    const Shape& bs = spec.inputs[1]->maxShape;
    const Shape& y = spec.outputs[0]->maxShape;
    if (a.size() < 2 || bs.size() < 2 || y.size() < std::max(a.size(), bs.size()))
      throw OpError(name_, "matmul operands must have rank >= 2 and not exceed the output rank");
    for (int k = 0; k < 2; ++k) {
      const TensorDesc& t = *spec.inputs[k];
      if (!trans_[k]) continue;
      const int64_t rows = t.maxShape[t.maxShape.size() - 2], cols = t.maxShape.back(), mat = rows * cols;
      if (!t.constant) {
        if (!transpose_) transpose_ = b.kernel("strided_copy");
        scratchOffset_[k] = scratchFloats_;
        scratchFloats_ += numel(t.maxShape);
        continue;
      }
      std::vector<float> d(t.data.size());
      for (int64_t m = 0; m < static_cast<int64_t>(t.data.size()) / std::max<int64_t>(mat, 1); ++m)
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j) d[m * mat + j * rows + i] = t.data[m * mat + i * cols + j];
      constant_[k] = b.upload(d);
    }
  }

  size_t scratchBytes() const override { return static_cast<size_t>(scratchFloats_) * sizeof(float); }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const Shape& ys = out[0].shape;
    const size_t rank = ys.size();
    if (numel(ys) == 0) return;
    // Each operand as a plain [..., rows, cols] matrix stack, padded to the output rank.
    Shape shapes[2];
    cl_mem mems[2];
    size_t offsets[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      Shape s = in[k].shape;
      mems[k] = in[k].mem;
      if (trans_[k]) {
        const size_t rk = s.size();
        Shape t = s;
        std::swap(t[rk - 1], t[rk - 2]);
        if (constant_[k].get()) {
          mems[k] = constant_[k].get();
        } else {
          // Walk the output [.., cols, rows] with the input's strides swapped on the last two axes.
          std::vector<int64_t> xs = stridesOf(s);
          std::swap(xs[rk - 1], xs[rk - 2]);
          transpose_->launch(r.queue, static_cast<size_t>(numel(t)), in[k].mem, cl_int{0}, r.scratch,
                             toInt(scratchOffset_[k], name_), toInt(numel(t), name_), static_cast<cl_int>(rk), dims8(t, name_),
                             dims8(xs, name_), dims8(stridesOf(t), name_));
          mems[k] = r.scratch;
          offsets[k] = static_cast<size_t>(scratchOffset_[k]);
        }
        s = t;
      }
      s.insert(s.begin(), rank - s.size(), 1);
      shapes[k] = s;
    }
    const Shape& as = shapes[0];
    const Shape& bs = shapes[1];
    const size_t M = static_cast<size_t>(ys[rank - 2]), N = static_cast<size_t>(ys[rank - 1]);
    const size_t K = static_cast<size_t>(as[rank - 1]);
    if (static_cast<size_t>(bs[rank - 2]) != K || static_cast<size_t>(as[rank - 2]) != M ||
        static_cast<size_t>(bs[rank - 1]) != N)
      throw OpError(name_, "matmul operand shapes do not match the output");
    // Batch strides per output batch axis, 0 where an operand is broadcast.
    std::vector<size_t> sa(rank - 2), sb(rank - 2);
    size_t batch = 1, accA = M * K, accB = K * N;
    for (size_t d = rank - 2; d-- > 0;) {
      sa[d] = as[d] == 1 ? 0 : accA;
      sb[d] = bs[d] == 1 ? 0 : accB;
      accA *= static_cast<size_t>(as[d]);
      accB *= static_cast<size_t>(bs[d]);
      batch *= static_cast<size_t>(ys[d]);
    }
    // One uniform stride per operand over the flattened batch (0: the same matrix every time),
    // else -1 and one GEMM per output matrix.
    auto uniform = [&](const std::vector<size_t>& s, size_t mat) -> long long {
      bool all = true, none = true;
      size_t expect = mat;
      for (size_t d = rank - 2; d-- > 0;) {
        if (ys[d] == 1) continue;  // a single index: any stride will do
        none = none && s[d] == 0;
        all = all && s[d] == expect;
        expect *= static_cast<size_t>(ys[d]);
      }
      return none ? 0 : all ? static_cast<long long>(mat) : -1;
    };
    const long long ua = uniform(sa, M * K), ub = uniform(sb, K * N);
    const Operand c{out[0].mem, 0, N, M * N};
    if (ua > 0 && ub == 0)  // every batch's rows against one matrix: a single tall GEMM
      return gemm(r, dev_, name_, batch * M, N, K, {mems[0], offsets[0], K, 0}, {mems[1], offsets[1], N, 0},
                  {out[0].mem, 0, N, batch * M * N}, 1);
    if (ua >= 0 && ub >= 0)
      return gemm(r, dev_, name_, M, N, K, {mems[0], offsets[0], K, static_cast<size_t>(ua)},
                  {mems[1], offsets[1], N, static_cast<size_t>(ub)}, c, batch);
    for (size_t i = 0; i < batch; ++i) {
      size_t oa = offsets[0], ob = offsets[1], rem = i;
      for (size_t d = rank - 2; d-- > 0;) {
        const size_t idx = rem % static_cast<size_t>(ys[d]);
        rem /= static_cast<size_t>(ys[d]);
        oa += idx * sa[d];
        ob += idx * sb[d];
      }
      gemm(r, dev_, name_, M, N, K, {mems[0], oa, K, M * K}, {mems[1], ob, N, K * N}, {out[0].mem, i * M * N, N, M * N}, 1);
    }
  }

 private:
  std::string name_;
  DeviceContext& dev_;
  bool trans_[2] = {false, false};
  Buffer constant_[2];                 // transposed constants
  int64_t scratchOffset_[2] = {0, 0};  // transposed activations, in floats
  int64_t scratchFloats_ = 0;
  std::unique_ptr<Kernel> transpose_;
};

std::unique_ptr<GpuOp> makeConv(const OpSpec& s, Builder& b) { return std::make_unique<ConvOp>(s, b, false); }
std::unique_ptr<GpuOp> makeDeconv(const OpSpec& s, Builder& b) { return std::make_unique<ConvOp>(s, b, true); }
std::unique_ptr<GpuOp> makeMatMul(const OpSpec& s, Builder& b) { return std::make_unique<MatMulOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("conv", makeConv, {"strides", "dilations", "padsBegin", "padsEnd", "group"});
DYNBATCH_REGISTER_GPU_OP("deconv", makeDeconv, {"strides", "dilations", "padsBegin", "padsEnd", "group"});
DYNBATCH_REGISTER_GPU_OP("matmul", makeMatMul, {"transposeA", "transposeB"});

}  // namespace gpu
}  // namespace dynbatch
