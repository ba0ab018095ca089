using System.Buffers.Binary;

namespace Plateau.Collective.Transport.Sockets;

/// <summary>
/// Fixed 32-byte little-endian header of a chunk on a data socket: payload length, kind, op,
/// step, piece, total — the same fields as the protobuf <c>Chunk</c>, followed by the raw payload.
/// </summary>
internal static class DataFrameHeader
{
    public const int Bytes = 32;

    public static void Write(Span<byte> header, WireFrame frame, int payloadBytes)
    {
        BinaryPrimitives.WriteInt32LittleEndian(header, payloadBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], frame.Kind);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], frame.Op);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], frame.Step);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], frame.Piece);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], frame.Total);
    }

    public static (int PayloadBytes, uint Kind, ulong Op, uint Step, uint Piece, ulong Total) Read(ReadOnlySpan<byte> header) => (
        BinaryPrimitives.ReadInt32LittleEndian(header),
        BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
        BinaryPrimitives.ReadUInt64LittleEndian(header[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[16..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[20..]),
        BinaryPrimitives.ReadUInt64LittleEndian(header[24..]));
}
