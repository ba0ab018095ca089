using System.Buffers;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// A contiguous float32 CPU tensor's data as <see cref="Memory{T}"/>, so the collective (which knows no tensors) reduces
/// in place in it — used for the page-locked staging buffers. The manager holds the tensor, so its finalizer cannot free
/// the native memory while the memory is reachable; the owner disposes the tensor only after the last use. Native memory
/// never moves, so pinning is a no-op.
/// </summary>
internal sealed unsafe class TensorMemory : MemoryManager<float>
{
    private readonly float* _pointer;
    private readonly int _length;

    public TensorMemory(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.device_type != TorchSharp.DeviceType.CPU || tensor.dtype != ScalarType.Float32 || !tensor.is_contiguous())
        {
            throw new ArgumentException($"a contiguous float32 CPU tensor is needed, not {tensor.dtype} on {tensor.device}", nameof(tensor));
        }

        Tensor = tensor;
        _length = checked((int)tensor.numel());
        fixed (byte* data = tensor.bytes)
        {
            _pointer = (float*)data;
        }
    }

    public Tensor Tensor { get; }

    public override Span<float> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
