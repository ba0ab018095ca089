using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Data.Loading;

/// <summary>
/// One pooled batch buffer: CPU tensors allocated once and written in place by the decode threads through their
/// data pointers, so a batch costs no allocation and no copy on the way to the consumer.
/// </summary>
internal sealed unsafe class BatchSlot : IDisposable
{
    public BatchSlot(int id, int capacity, long[] sampleShape, bool floatOutput)
    {
        Id = id;
        Capacity = capacity;
        FloatOutput = floatOutput;
        var shape = new long[sampleShape.Length + 1];
        shape[0] = capacity;
        sampleShape.CopyTo(shape, 1);
        ElementsPerSample = (int)sampleShape.Aggregate(1L, (a, b) => a * b);
        Images = empty(shape, floatOutput ? ScalarType.Float32 : ScalarType.Byte);
        Labels = zeros(capacity, ScalarType.Int64);
        Offsets = zeros(capacity, 3);
        ImagePtr = Pointer(Images);
        LabelPtr = (long*)Pointer(Labels);
        OffsetPtr = (float*)Pointer(Offsets);
    }

    public int Id { get; }

    public int Capacity { get; }

    public bool FloatOutput { get; }

    public int ElementsPerSample { get; }

    public int BytesPerSample => ElementsPerSample * (FloatOutput ? 4 : 1);

    public long TotalBytes => ((long)Capacity * BytesPerSample) + (Capacity * (8L + 12L));

    public Tensor Images { get; }

    public Tensor Labels { get; }

    public Tensor Offsets { get; }

    public byte* ImagePtr { get; }

    public long* LabelPtr { get; }

    public float* OffsetPtr { get; }

    public Span<byte> SampleBytes(int position) => new(ImagePtr + ((long)position * BytesPerSample), BytesPerSample);

    public Span<float> SampleFloats(int position) => new(ImagePtr + ((long)position * BytesPerSample), ElementsPerSample);

    public Span<float> SampleOffsets(int position) => new(OffsetPtr + (position * 3), 3);

    /// <summary>Moves sample <paramref name="from"/> to position <paramref name="to"/> (compaction after skipped samples).</summary>
    public void MoveSample(int from, int to)
    {
        Buffer.MemoryCopy(ImagePtr + ((long)from * BytesPerSample), ImagePtr + ((long)to * BytesPerSample), BytesPerSample, BytesPerSample);
        LabelPtr[to] = LabelPtr[from];
        OffsetPtr[(to * 3) + 0] = OffsetPtr[(from * 3) + 0];
        OffsetPtr[(to * 3) + 1] = OffsetPtr[(from * 3) + 1];
        OffsetPtr[(to * 3) + 2] = OffsetPtr[(from * 3) + 2];
    }

    private static byte* Pointer(Tensor t)
    {
        var span = t.bytes;
        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        Offsets.Dispose();
    }
}
