using System.Buffers;
using System.Runtime.InteropServices;

namespace Plateau.Collective.Transport.Sockets;

/// <summary>
/// The caller's float memory seen as bytes, so the socket sends straight from the gradient buffer
/// (no staging copy). The socket may read it until the send completes; the ring never writes a
/// segment while a send of it is outstanding.
/// </summary>
internal sealed unsafe class FloatBytesMemory(ReadOnlyMemory<float> floats) : MemoryManager<byte>
{
    private readonly Memory<float> _floats = MemoryMarshal.AsMemory(floats);

    public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(_floats.Span);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        var handle = _floats.Pin();
        return new MemoryHandle((byte*)handle.Pointer + elementIndex, default, new Unpinner(handle));
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Unpinner(MemoryHandle handle) : IPinnable
    {
        private MemoryHandle _handle = handle;

        public MemoryHandle Pin(int elementIndex) => throw new NotSupportedException();

        public void Unpin() => _handle.Dispose();
    }
}
