using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Transport;

/// <summary>
/// Protobuf wire encoding of <see cref="PeerFrame"/> written and parsed by hand for the chunk case
/// (field numbers from collective.proto), so tensor bytes are copied exactly once per side and never
/// become a per-message byte[] or ByteString.
/// </summary>
internal static class WireFrameMarshaller
{
    private const int ChunkField = PeerFrame.ChunkFieldNumber;
    private const int WireVarint = 0;
    private const int WireLengthDelimited = 2;

    public static readonly Marshaller<WireFrame> Instance = Marshallers.Create<WireFrame>(Serialize, Deserialize);

    public static readonly Method<WireFrame, WireFrame> ExchangeMethod = new(
        MethodType.DuplexStreaming,
        CollectivePeer.Descriptor.FullName,
        CollectivePeer.Descriptor.FindMethodByName("Exchange").Name,
        Instance,
        Instance);

    private static void Serialize(WireFrame frame, SerializationContext context)
    {
        if (frame.Control is { } control)
        {
            var size = control.CalculateSize();
            context.SetPayloadLength(size);
            control.WriteTo(context.GetBufferWriter());
            context.Complete();
            return;
        }

        var dataLength = frame.PayloadBytes;
        var inner =
            1 + VarintSize(frame.Op) +
            1 + VarintSize(frame.Kind) +
            1 + VarintSize(frame.Step) +
            1 + VarintSize(frame.Piece) +
            1 + VarintSize((ulong)dataLength) + dataLength +
            1 + VarintSize(frame.Total);
        var total = 1 + VarintSize((ulong)inner) + inner;
        context.SetPayloadLength(total);
        var writer = context.GetBufferWriter();

        Span<byte> header = stackalloc byte[64];
        var n = 0;
        n += WriteTag(header[n..], ChunkField, WireLengthDelimited);
        n += WriteVarint(header[n..], (ulong)inner);
        n += WriteTag(header[n..], Chunk.OpFieldNumber, WireVarint);
        n += WriteVarint(header[n..], frame.Op);
        n += WriteTag(header[n..], Chunk.KindFieldNumber, WireVarint);
        n += WriteVarint(header[n..], frame.Kind);
        n += WriteTag(header[n..], Chunk.StepFieldNumber, WireVarint);
        n += WriteVarint(header[n..], frame.Step);
        n += WriteTag(header[n..], Chunk.PieceFieldNumber, WireVarint);
        n += WriteVarint(header[n..], frame.Piece);
        n += WriteTag(header[n..], Chunk.TotalFieldNumber, WireVarint);
        n += WriteVarint(header[n..], frame.Total);
        n += WriteTag(header[n..], Chunk.DataFieldNumber, WireLengthDelimited);
        n += WriteVarint(header[n..], (ulong)dataLength);
        writer.Write(header[..n]);

        if (frame.SourceFloats.Length > 0)
        {
            // Fill whatever span the writer has (Kestrel's pipe hands out pooled ~4 KiB blocks):
            // asking for one big span would make the pipe allocate an unpooled large segment per message.
            var source = frame.SourceFloats.Span;
            var width = ElementCodec.BytesPerElement(frame.Format);
            for (var offset = 0; offset < source.Length;)
            {
                var span = writer.GetSpan(width);
                var count = Math.Min(source.Length - offset, span.Length / width);
                ElementCodec.Encode(source.Slice(offset, count), span, frame.Format);
                writer.Advance(count * width);
                offset += count;
            }
        }
        else if (frame.SourceBytes.Length > 0)
        {
            writer.Write(frame.SourceBytes.Span);
        }
        context.Complete();
    }

    private static WireFrame Deserialize(DeserializationContext context)
    {
        var sequence = context.PayloadAsReadOnlySequence();
        var reader = new SequenceReader<byte>(sequence);
        if (!TryReadVarint(ref reader, out var tag))
        {
            throw Malformed("empty frame");
        }
        if ((int)(tag >> 3) != ChunkField || (int)(tag & 7) != WireLengthDelimited)
        {
            return WireFrame.ForControl(PeerFrame.Parser.ParseFrom(sequence));
        }
        if (!TryReadVarint(ref reader, out var innerLength) || (ulong)reader.Remaining < innerLength)
        {
            throw Malformed("truncated chunk");
        }
        var end = reader.Consumed + (long)innerLength;
        ulong op = 0, total = 0;
        uint kind = 0, step = 0, piece = 0;
        byte[]? rented = null;
        var length = 0;
        try
        {
            while (reader.Consumed < end)
            {
                if (!TryReadVarint(ref reader, out var fieldTag))
                {
                    throw Malformed("truncated chunk field");
                }
                var field = (int)(fieldTag >> 3);
                var wire = (int)(fieldTag & 7);
                if (wire == WireVarint)
                {
                    if (!TryReadVarint(ref reader, out var value))
                    {
                        throw Malformed("truncated varint");
                    }
                    switch (field)
                    {
                        case Chunk.OpFieldNumber: op = value; break;
                        case Chunk.KindFieldNumber: kind = (uint)value; break;
                        case Chunk.StepFieldNumber: step = (uint)value; break;
                        case Chunk.PieceFieldNumber: piece = (uint)value; break;
                        case Chunk.TotalFieldNumber: total = value; break;
                        default: break; // unknown varint field: skipped (forward compatibility)
                    }
                }
                else if (wire == WireLengthDelimited)
                {
                    if (!TryReadVarint(ref reader, out var size) || (ulong)reader.Remaining < size || size > int.MaxValue)
                    {
                        throw Malformed("truncated bytes field");
                    }
                    if (field == Chunk.DataFieldNumber && rented is null)
                    {
                        length = (int)size;
                        rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                        reader.TryCopyTo(rented.AsSpan(0, length));
                    }
                    reader.Advance((long)size);
                }
                else
                {
                    throw Malformed($"unexpected wire type {wire} for field {field}");
                }
            }
        }
        catch
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
            throw;
        }
        return WireFrame.Received(op, kind, step, piece, total, rented ?? ArrayPool<byte>.Shared.Rent(1), length);
    }

    private static RpcException Malformed(string what) =>
        new(new Status(StatusCode.InvalidArgument, $"malformed plateau.collective.v1.PeerFrame: {what}"));

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
    }

    private static int WriteTag(Span<byte> destination, int field, int wireType) => WriteVarint(destination, (ulong)((field << 3) | wireType));

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }
        return false;
    }
}
