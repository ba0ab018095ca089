using System.Runtime.InteropServices;
using Plateau.Collective.Transport;

namespace Plateau.Collective.Ring;

/// <summary>
/// Where one all-reduce's all-gather pieces land: a data socket's reader receives them straight into the caller's
/// buffer, as Gloo does, instead of into a pooled array the operation then copies from (one memory pass less per
/// gathered byte). Only exact fp32 payloads, and only a buffer that is a managed array: if the operation fails, a
/// read still in flight ends inside memory the GC keeps alive, in a buffer whose contents a failed operation leaves
/// undefined anyway, and the link's disposal ends that read.
/// </summary>
/// <remarks>
/// Why nothing else touches a piece's elements while the reader fills them: piece p of all-gather step g reaches this
/// rank only after this rank sent piece p of step g−W+1 (the ring is W hops long), and that send waited until this
/// rank had received and added piece p of step g−W — the last time the operation wrote or read those elements before
/// step g. The operation itself only checks the placed frame's header and passes the piece on afterwards.
/// </remarks>
internal sealed class PiecePlacement
{
    private readonly ulong _sequence;
    private readonly Memory<float> _buffer;
    private readonly RingLayout _layout;
    private readonly int _rank;
    private readonly int _worldSize;
    private readonly int _streams;

    private PiecePlacement(ulong sequence, Memory<float> buffer, RingLayout layout, int rank, int worldSize, int streams)
    {
        _sequence = sequence;
        _buffer = buffer;
        _layout = layout;
        _rank = rank;
        _worldSize = worldSize;
        _streams = streams;
    }

    /// <summary>A placement for all-reduce <paramref name="sequence"/>, or null when its pieces cannot be placed.</summary>
    public static PiecePlacement? For(ulong sequence, Memory<float> buffer, RingLayout layout, int rank, int worldSize, int streams, WireCompression format) =>
        format == WireCompression.None && MemoryMarshal.TryGetArray<float>(buffer, out _)
            ? new PiecePlacement(sequence, buffer, layout, rank, worldSize, streams)
            : null;

    /// <summary>
    /// The bytes frame (<paramref name="op"/>, <paramref name="kind"/>, <paramref name="step"/>, <paramref name="piece"/>)
    /// of <paramref name="length"/> bytes on <paramref name="stream"/> should be read into, when it is one of this
    /// operation's all-gather pieces exactly as expected; otherwise false, and the frame takes the pooled path, where
    /// the operation's checks name whatever is wrong with it.
    /// </summary>
    public bool TryPlace(ulong op, uint kind, uint step, uint piece, ulong total, int length, int stream, out Span<byte> destination)
    {
        destination = default;
        if (op != _sequence || kind != (uint)CollectiveOpKind.AllReduce || total != (ulong)_buffer.Length ||
            step < (uint)(_worldSize - 1) || step >= (uint)_layout.Steps || piece % (uint)_streams != (uint)stream)
        {
            return false;
        }

        var (offset, segmentLength) = _layout.Segment(_layout.ReceiveSegment(_rank, (int)step));
        if (piece >= (uint)_layout.Pieces(segmentLength))
        {
            return false;
        }

        var (start, count) = _layout.Piece(offset, segmentLength, (int)piece);
        if (length != count * sizeof(float))
        {
            return false;
        }

        destination = MemoryMarshal.AsBytes(_buffer.Span.Slice(start, count));
        return true;
    }
}
