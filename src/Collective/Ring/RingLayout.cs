namespace Plateau.Collective.Ring;

/// <summary>
/// Where each ring step's data lies: the buffer is cut into WorldSize contiguous segments (sizes
/// differ by at most one element) and each segment into pieces of at most <c>chunkElements</c>.
/// Reduce-scatter step g (0 ≤ g &lt; W-1): rank r sends segment r-g and receives r-g-1; after it,
/// rank r owns segment r+1. All-gather step g (W-1 ≤ g &lt; 2W-2), t = g-W+1: sends r+1-t, receives r-t.
/// </summary>
internal readonly struct RingLayout
{
    private readonly int _length;
    private readonly int _worldSize;
    private readonly int _chunkElements;

    public RingLayout(int length, int worldSize, int chunkElements)
    {
        _length = length;
        _worldSize = worldSize;
        _chunkElements = chunkElements;
    }

    public int Steps => 2 * (_worldSize - 1);

    public (int Offset, int Length) Segment(int segment)
    {
        var size = _length / _worldSize;
        var extra = _length % _worldSize;
        var offset = segment * size + Math.Min(segment, extra);
        return (offset, size + (segment < extra ? 1 : 0));
    }

    public int Pieces(int segmentLength) => (segmentLength + _chunkElements - 1) / _chunkElements;

    public (int Start, int Count) Piece(int segmentOffset, int segmentLength, int piece)
    {
        var start = piece * _chunkElements;
        return (segmentOffset + start, Math.Min(_chunkElements, segmentLength - start));
    }

    public int SendSegment(int rank, int step) =>
        Mod(step < _worldSize - 1 ? rank - step : rank + 1 - (step - (_worldSize - 1)));

    public int ReceiveSegment(int rank, int step) =>
        Mod(step < _worldSize - 1 ? rank - step - 1 : rank - (step - (_worldSize - 1)));

    private int Mod(int value) => ((value % _worldSize) + _worldSize) % _worldSize;
}
