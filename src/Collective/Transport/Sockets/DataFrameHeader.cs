using System.Buffers.Binary;

namespace Plateau.Collective.Transport.Sockets;

/// <summary>
/// Fixed 40-byte little-endian header of a chunk on a data socket: payload length, kind, op,
/// step, piece, total — the same fields as the protobuf <c>Chunk</c> — then the shared-memory slot
/// holding the payload (<see cref="Inline"/>: the raw payload follows on the socket) and 4 reserved bytes.
/// </summary>
internal static class DataFrameHeader
{
    public const int Bytes = 40;

    /// <summary>Slot value of a frame whose payload follows the header on the socket.</summary>
    public const int Inline = -1;

    public static void Write(Span<byte> header, WireFrame frame, int payloadBytes, int slot = Inline)
    {
        BinaryPrimitives.WriteInt32LittleEndian(header, payloadBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], frame.Kind);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], frame.Op);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], frame.Step);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], frame.Piece);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], frame.Total);
        BinaryPrimitives.WriteInt32LittleEndian(header[32..], slot);
        BinaryPrimitives.WriteInt32LittleEndian(header[36..], 0);
    }

    public static (int PayloadBytes, uint Kind, ulong Op, uint Step, uint Piece, ulong Total, int Slot) Read(ReadOnlySpan<byte> header) => (
        BinaryPrimitives.ReadInt32LittleEndian(header),
        BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
        BinaryPrimitives.ReadUInt64LittleEndian(header[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[16..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[20..]),
        BinaryPrimitives.ReadUInt64LittleEndian(header[24..]),
        BinaryPrimitives.ReadInt32LittleEndian(header[32..]));
}
