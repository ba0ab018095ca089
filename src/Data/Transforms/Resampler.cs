using System.Numerics;
using System.Runtime.InteropServices;

namespace Plateau.Data.Transforms;

/// <summary>
/// Resamples a source rectangle of an RGB image to a fixed output size with an antialiased triangle (bilinear)
/// filter whose support widens when shrinking, the same coefficients as Pillow's <c>resize(BILINEAR, box=...)</c>,
/// which torchvision uses. Separable: a horizontal pass over only the rows the output needs, then a vectorised
/// vertical pass. Unscaled integer-offset crops (CIFAR pad-crop) are plain copies with zero fill outside the image.
/// Holds scratch buffers: one instance per thread.
/// </summary>
internal sealed class Resampler
{
    private float[] _weightsX = [];
    private int[] _startX = [];
    private int[] _countX = [];
    private float[] _weightsY = [];
    private int[] _startY = [];
    private int[] _countY = [];
    private float[] _rows = [];

    /// <summary>Scratch bytes held (part of the loader's resident-memory bound).</summary>
    public long ScratchBytes => (_weightsX.Length + _weightsY.Length + _rows.Length) * 4L + (_startX.Length + _countX.Length + _startY.Length + _countY.Length) * 4L;

    public void Resample(ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight, CropPlan plan, int outWidth, int outHeight, Span<byte> destinationHwc)
    {
        if (destinationHwc.Length < outWidth * outHeight * 3)
        {
            throw new ArgumentException("destination too small", nameof(destinationHwc));
        }
        if (IsPlainCopy(plan, outWidth, outHeight))
        {
            CopyWithPadding(source, sourceWidth, sourceHeight, (int)plan.X, (int)plan.Y, plan.Flip, outWidth, outHeight, destinationHwc);
            return;
        }
        var x0 = Math.Clamp(plan.X, 0, sourceWidth);
        var y0 = Math.Clamp(plan.Y, 0, sourceHeight);
        var x1 = Math.Clamp(plan.X + plan.Width, x0, sourceWidth);
        var y1 = Math.Clamp(plan.Y + plan.Height, y0, sourceHeight);
        if (x1 - x0 <= 0 || y1 - y0 <= 0)
        {
            throw new ArgumentException($"crop {plan} lies outside the {sourceWidth}x{sourceHeight} image");
        }
        var kx = Coefficients(sourceWidth, x0, x1, outWidth, ref _weightsX, ref _startX, ref _countX);
        var ky = Coefficients(sourceHeight, y0, y1, outHeight, ref _weightsY, ref _startY, ref _countY);

        var rowLo = _startY[0];
        var rowHi = _startY[outHeight - 1] + _countY[outHeight - 1];
        for (var y = 0; y < outHeight; y++)
        {
            rowLo = Math.Min(rowLo, _startY[y]);
            rowHi = Math.Max(rowHi, _startY[y] + _countY[y]);
        }
        var rowFloats = outWidth * 3;
        var needed = (rowHi - rowLo) * rowFloats;
        if (_rows.Length < needed)
        {
            _rows = new float[needed];
        }
        HorizontalPass(source, sourceWidth, rowLo, rowHi, outWidth, kx, plan.Flip);
        VerticalPass(rowLo, outHeight, rowFloats, ky, destinationHwc);
    }

    private static bool IsPlainCopy(CropPlan plan, int outWidth, int outHeight) =>
        plan.Width == outWidth && plan.Height == outHeight && plan.X == Math.Floor(plan.X) && plan.Y == Math.Floor(plan.Y);

    private static void CopyWithPadding(ReadOnlySpan<byte> source, int sw, int sh, int x0, int y0, bool flip, int ow, int oh, Span<byte> dst)
    {
        dst[..(ow * oh * 3)].Clear();
        for (var y = 0; y < oh; y++)
        {
            var sy = y0 + y;
            if (sy < 0 || sy >= sh)
            {
                continue;
            }
            var srcRow = source.Slice(sy * sw * 3, sw * 3);
            var dstRow = dst.Slice(y * ow * 3, ow * 3);
            for (var x = 0; x < ow; x++)
            {
                var sx = x0 + x;
                if (sx < 0 || sx >= sw)
                {
                    continue;
                }
                var dx = flip ? ow - 1 - x : x;
                dstRow[dx * 3] = srcRow[sx * 3];
                dstRow[(dx * 3) + 1] = srcRow[(sx * 3) + 1];
                dstRow[(dx * 3) + 2] = srcRow[(sx * 3) + 2];
            }
        }
    }

    /// <summary>Pillow's precompute_coeffs for the bilinear filter (support 1), normalised per output pixel.</summary>
    private static int Coefficients(int inSize, double in0, double in1, int outSize, ref float[] weights, ref int[] starts, ref int[] counts)
    {
        var scale = (in1 - in0) / outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = filterScale;
        var kSize = ((int)Math.Ceiling(support) * 2) + 1;
        if (weights.Length < outSize * kSize)
        {
            weights = new float[outSize * kSize];
        }
        if (starts.Length < outSize)
        {
            starts = new int[outSize];
            counts = new int[outSize];
        }
        var inv = 1.0 / filterScale;
        Span<double> w = stackalloc double[kSize];
        for (var i = 0; i < outSize; i++)
        {
            var center = in0 + ((i + 0.5) * scale);
            var min = Math.Max((int)(center - support + 0.5), 0);
            var max = Math.Min((int)(center + support + 0.5), inSize) - min;
            max = Math.Min(max, kSize);
            double total = 0;
            for (var k = 0; k < max; k++)
            {
                var t = Math.Abs((k + min - center + 0.5) * inv);
                w[k] = t < 1 ? 1 - t : 0;
                total += w[k];
            }
            var row = weights.AsSpan(i * kSize, kSize);
            row.Clear();
            for (var k = 0; k < max; k++)
            {
                row[k] = total > 0 ? (float)(w[k] / total) : 0f;
            }
            starts[i] = min;
            counts[i] = Math.Max(max, 0);
        }
        return kSize;
    }

    private unsafe void HorizontalPass(ReadOnlySpan<byte> source, int sourceWidth, int rowLo, int rowHi, int outWidth, int kSize, bool flip)
    {
        fixed (byte* src = source)
        fixed (float* weights = _weightsX)
        fixed (int* starts = _startX)
        fixed (int* counts = _countX)
        fixed (float* rows = _rows)
        {
            var rowFloats = outWidth * 3;
            for (var r = rowLo; r < rowHi; r++)
            {
                var srcRow = src + ((long)r * sourceWidth * 3);
                var dstRow = rows + ((long)(r - rowLo) * rowFloats);
                for (var x = 0; x < outWidth; x++)
                {
                    var w = weights + (x * kSize);
                    var p = srcRow + (starts[x] * 3);
                    float a = 0, b = 0, c = 0;
                    var n = counts[x];
                    for (var k = 0; k < n; k++, p += 3)
                    {
                        var wk = w[k];
                        a += p[0] * wk;
                        b += p[1] * wk;
                        c += p[2] * wk;
                    }
                    var dx = flip ? outWidth - 1 - x : x;
                    dstRow[dx * 3] = a;
                    dstRow[(dx * 3) + 1] = b;
                    dstRow[(dx * 3) + 2] = c;
                }
            }
        }
    }

    private void VerticalPass(int rowLo, int outHeight, int rowFloats, int kSize, Span<byte> destination)
    {
        var rows = _rows.AsSpan();
        var accArray = System.Buffers.ArrayPool<float>.Shared.Rent(rowFloats);
        try
        {
            var accSpan = accArray.AsSpan(0, rowFloats);
            var vecWidth = Vector<float>.Count;
            for (var y = 0; y < outHeight; y++)
            {
                accSpan.Clear();
                var n = _countY[y];
                var wBase = y * kSize;
                for (var k = 0; k < n; k++)
                {
                    var wk = _weightsY[wBase + k];
                    var src = rows.Slice((_startY[y] + k - rowLo) * rowFloats, rowFloats);
                    var wv = new Vector<float>(wk);
                    var accVec = MemoryMarshal.Cast<float, Vector<float>>(accSpan);
                    var srcVec = MemoryMarshal.Cast<float, Vector<float>>(src);
                    for (var v = 0; v < accVec.Length; v++)
                    {
                        accVec[v] += srcVec[v] * wv;
                    }
                    for (var i = accVec.Length * vecWidth; i < rowFloats; i++)
                    {
                        accSpan[i] += src[i] * wk;
                    }
                }
                var dst = destination.Slice(y * rowFloats, rowFloats);
                for (var i = 0; i < rowFloats; i++)
                {
                    var v = accSpan[i] + 0.5f;
                    dst[i] = v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)v;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(accArray);
        }
    }
}
