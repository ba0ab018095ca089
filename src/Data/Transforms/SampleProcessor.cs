using Plateau.Data.Datasets;
using Plateau.Data.Decoding;
using Plateau.Data.Randomness;

namespace Plateau.Data.Transforms;

/// <summary>
/// Turns one <see cref="ImageSample"/> into its output views: header → transform plan (from the sample's own random
/// stream, keyed by (seed, epoch, index); a source the transform does not want stops here, its views zero) → decode at the coarsest DCT scale the plan allows → resample each view →
/// write uint8 CHW (normalisation later, e.g. on the device) or normalised float CHW. One instance per thread; the
/// output depends only on (seed, epoch, index, file bytes), never on which thread runs it.
/// </summary>
public sealed class SampleProcessor : IDisposable
{
    private readonly ImageDecoder _decoder;
    private readonly DecodedImage _image = new();
    private readonly Resampler _resampler = new();
    private readonly CropPlan[] _plans;
    private readonly byte[] _crop;
    private readonly float[] _scale = new float[3];
    private readonly float[] _bias = new float[3];

    public SampleProcessor(ISampleTransform transform, Normalisation normalisation, int seed, DecoderBackend backend = DecoderBackend.Auto, DecodeQuality quality = DecodeQuality.Exact)
    {
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentNullException.ThrowIfNull(normalisation);
        normalisation.Validate();
        Transform = transform;
        Normalisation = normalisation;
        Seed = seed;
        _decoder = new ImageDecoder(backend) { FastDct = quality == DecodeQuality.Fast };
        _plans = new CropPlan[transform.Views];
        _crop = new byte[transform.OutputWidth * transform.OutputHeight * 3];
    }

    public ISampleTransform Transform { get; }

    public Normalisation Normalisation { get; }

    public int Seed { get; }

    public ImageDecoder Decoder => _decoder;

    /// <summary>Values per sample in the output: views x 3 x H x W.</summary>
    public int ElementsPerSample => Transform.Views * 3 * Transform.OutputWidth * Transform.OutputHeight;

    /// <summary>Source (header) size of the sample processed last, before any resize or crop.</summary>
    public (int Width, int Height) SourceSize { get; private set; }

    /// <summary>Scratch bytes this processor holds right now (decoded image, crop, resampler rows).</summary>
    public long ScratchBytes => _image.Capacity + _crop.Length + _resampler.ScratchBytes;

    /// <summary>Writes views x 3 x H x W bytes (unnormalised) and the sample's 3 lighting offsets ([0, 1] scale).</summary>
    public void ProcessToBytes(in ImageSample sample, int epoch, Span<byte> destination, Span<float> lightingOffset)
    {
        var plane = Transform.OutputWidth * Transform.OutputHeight;
        if (!Prepare(sample, epoch, lightingOffset))
        {
            destination[..(_plans.Length * 3 * plane)].Clear();
            return;
        }
        for (var v = 0; v < _plans.Length; v++)
        {
            ReadOnlySpan<byte> crop = ResampleView(v);
            var dst = destination.Slice(v * 3 * plane, 3 * plane);
            for (var p = 0; p < plane; p++)
            {
                dst[p] = crop[p * 3];
                dst[plane + p] = crop[(p * 3) + 1];
                dst[(2 * plane) + p] = crop[(p * 3) + 2];
            }
        }
    }

    /// <summary>Writes views x 3 x H x W floats: (pixel / 255 + lighting - mean) / std.</summary>
    public void ProcessToFloats(in ImageSample sample, int epoch, Span<float> destination)
    {
        Span<float> offset = stackalloc float[3];
        var plane = Transform.OutputWidth * Transform.OutputHeight;
        if (!Prepare(sample, epoch, offset))
        {
            destination[..(_plans.Length * 3 * plane)].Clear();
            return;
        }
        for (var v = 0; v < _plans.Length; v++)
        {
            ReadOnlySpan<byte> crop = ResampleView(v);
            var dst = destination.Slice(v * 3 * plane, 3 * plane);
            for (var c = 0; c < 3; c++)
            {
                var a = _scale[c];
                var b = _bias[c];
                var channel = dst.Slice(c * plane, plane);
                for (var p = 0; p < plane; p++)
                {
                    channel[p] = (crop[(p * 3) + c] * a) + b;
                }
            }
        }
    }

    private double _sx;
    private double _sy;

    /// <summary>Reads the header and, when the transform wants the source, plans, draws the lighting and decodes; false (nothing decoded, no lighting) when it does not.</summary>
    private bool Prepare(in ImageSample sample, int epoch, Span<float> lightingOffset)
    {
        var random = new CounterRandom((ulong)Seed, (ulong)epoch, (ulong)sample.Index, CounterRandom.Streams.Augmentation);
        var (width, height) = _decoder.ReadSize(sample);
        SourceSize = (width, height);
        if (!Transform.Wants(width, height))
        {
            lightingOffset.Clear();
            return false;
        }
        Transform.Plan(width, height, ref random, _plans);
        PcaLighting.Draw(Transform.LightingStd, ref random, lightingOffset);
        for (var c = 0; c < 3; c++)
        {
            _scale[c] = 1f / (255f * Normalisation.Std[c]);
            _bias[c] = (lightingOffset[c] - Normalisation.Mean[c]) / Normalisation.Std[c];
        }

        // The coarsest DCT scale that still leaves every view at least its output resolution.
        var maxDownscale = double.MaxValue;
        foreach (var plan in _plans)
        {
            maxDownscale = Math.Min(maxDownscale, Math.Min(plan.Width / Transform.OutputWidth, plan.Height / Transform.OutputHeight));
        }
        // Powers of two only: libjpeg-turbo's 3/4, 5/8 ... IDCTs are plain C and measured slower than a SIMD full decode.
        _decoder.Decode(sample, DctScale.For(maxDownscale, anyEighth: false), _image);
        _sx = (double)_image.Width / width;
        _sy = (double)_image.Height / height;
        return true;
    }

    private byte[] ResampleView(int view)
    {
        var plan = _plans[view];
        if (_sx != 1 || _sy != 1)
        {
            plan = new CropPlan(plan.X * _sx, plan.Y * _sy, plan.Width * _sx, plan.Height * _sy, plan.Flip);
        }
        _resampler.Resample(_image.Span, _image.Width, _image.Height, plan, Transform.OutputWidth, Transform.OutputHeight, _crop);
        return _crop;
    }

    public void Dispose() => _decoder.Dispose();
}
