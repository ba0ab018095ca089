using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Plateau.Collective.Transport.Sockets;

/// <summary>
/// The exchange that follows a data connection's acknowledgement: the receiving rank offers a
/// shared-memory slot file (or offers none), the sending rank answers whether it mapped it. Offer:
/// u16 path length (0 = no offer), path, 16-byte cookie, i32 slot count, i32 slot bytes. Answer: one
/// byte, <see cref="Mapped"/> or <see cref="Declined"/>. Both sides block with the socket's timeout.
/// </summary>
internal static class SharedMemoryOffer
{
    public const byte Declined = 0;

    public const byte Mapped = 1;

    /// <summary>Slots per connection: the receive queue's depth, so shared memory never throttles harder than the queue.</summary>
    public const int SlotCount = 8;

    private const int MaxPathBytes = 255;

    /// <summary>Receiver side: creates and offers a slot file when <paramref name="enabled"/>; returns it if the sender mapped it. The file is unlinked either way.</summary>
    public static SharedSlots? Offer(Socket socket, bool enabled, int slotBytes)
    {
        var slots = enabled ? SharedSlots.TryCreate(SlotCount, slotBytes, out _) : null;
        try
        {
            if (slots is null)
            {
                socket.Send(new byte[2]); // path length 0: no offer, no answer
                return null;
            }
            var path = Encoding.UTF8.GetBytes(slots.Path);
            var offer = new byte[2 + path.Length + SharedSlots.CookieBytes + 8];
            BinaryPrimitives.WriteUInt16LittleEndian(offer, (ushort)path.Length);
            path.CopyTo(offer, 2);
            slots.Cookie.CopyTo(offer.AsSpan(2 + path.Length));
            BinaryPrimitives.WriteInt32LittleEndian(offer.AsSpan(2 + path.Length + SharedSlots.CookieBytes), slots.SlotCount);
            BinaryPrimitives.WriteInt32LittleEndian(offer.AsSpan(6 + path.Length + SharedSlots.CookieBytes), slots.SlotBytes);
            socket.Send(offer);
            var answer = new byte[1];
            var answered = DataSockets.ReceiveExactly(socket, answer);
            slots.Unlink(); // answered (or gone): the name is no longer needed by anyone
            if (!answered)
            {
                throw new IOException("the data connection closed before the shared-memory answer");
            }
            if (answer[0] == Mapped)
            {
                var mapped = slots;
                slots = null;
                return mapped;
            }
            return null;
        }
        finally
        {
            if (slots is not null)
            {
                slots.Unlink();
                slots.Dispose();
            }
        }
    }

    /// <summary>Sender side: reads the offer and maps the file when <paramref name="enabled"/> and it is on this host.</summary>
    public static SharedSlots? Answer(Socket socket, bool enabled)
    {
        var length = new byte[2];
        if (!DataSockets.ReceiveExactly(socket, length))
        {
            throw new IOException("the data connection closed before the shared-memory offer");
        }
        var pathBytes = BinaryPrimitives.ReadUInt16LittleEndian(length);
        if (pathBytes == 0)
        {
            return null;
        }
        if (pathBytes > MaxPathBytes)
        {
            throw new InvalidDataException($"shared-memory offer with a {pathBytes}-byte path (limit {MaxPathBytes})");
        }
        var offer = new byte[pathBytes + SharedSlots.CookieBytes + 8];
        if (!DataSockets.ReceiveExactly(socket, offer))
        {
            throw new IOException("the data connection closed inside the shared-memory offer");
        }
        var path = Encoding.UTF8.GetString(offer, 0, pathBytes);
        var cookie = offer.AsSpan(pathBytes, SharedSlots.CookieBytes);
        var slotCount = BinaryPrimitives.ReadInt32LittleEndian(offer.AsSpan(pathBytes + SharedSlots.CookieBytes));
        var slotBytes = BinaryPrimitives.ReadInt32LittleEndian(offer.AsSpan(pathBytes + SharedSlots.CookieBytes + 4));
        var valid = slotCount is > 0 and <= byte.MaxValue + 1 && slotBytes is > 0 and <= RingOptions.MaxChunkBytes;
        var slots = enabled && valid ? SharedSlots.TryOpen(path, cookie, slotCount, slotBytes) : null;
        socket.Send([slots is null ? Declined : Mapped]);
        return slots;
    }
}
