using System.Buffers;
using Google.Protobuf;
using Plateau.Collective.Transport.Sockets;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Transport;

/// <summary>
/// In-memory form of a <c>plateau.collective.v1.PeerFrame</c>. Chunks bypass the generated protobuf
/// classes: outgoing data is encoded straight from the caller's float buffer into gRPC's output
/// buffer, incoming data lands in a pooled array (returned after use), so a step allocates no
/// tensor-sized objects. Control frames (hello, welcome, abort) use the generated messages.
/// </summary>
internal sealed class WireFrame
{
    private byte[]? _rented;
    private SharedSlots? _slots;
    private int _slot;
    private Action<int>? _returnSlot;

    private WireFrame()
    {
    }

    public PeerFrame? Control { get; private init; }

    public bool IsChunk => Control is null;

    public ulong Op { get; private init; }

    public uint Kind { get; private init; }

    public uint Step { get; private init; }

    public uint Piece { get; private init; }

    public ulong Total { get; private init; }

    /// <summary>Outgoing float payload and its wire format.</summary>
    public ReadOnlyMemory<float> SourceFloats { get; private init; }

    public WireCompression Format { get; private init; }

    /// <summary>Outgoing raw bytes payload (all-gather blocks).</summary>
    public ReadOnlyMemory<byte> SourceBytes { get; private init; }

    /// <summary>Incoming payload bytes (valid until <see cref="Release"/>).</summary>
    public ReadOnlySpan<byte> Data => _rented is not null ? _rented.AsSpan(0, DataLength)
        : _slots is { } slots ? slots.Slot(_slot, DataLength) : default;

    public int DataLength { get; private set; }

    /// <summary>Whether the payload was received straight into the operation's buffer (<see cref="Ring.PiecePlacement"/>): <see cref="Data"/> is empty.</summary>
    public bool IsPlaced { get; private init; }

    public int PayloadBytes => SourceFloats.Length > 0 ? SourceFloats.Length * ElementCodec.BytesPerElement(Format) : SourceBytes.Length;

    public static WireFrame ForControl(PeerFrame control) => new() { Control = control };

    public static WireFrame ForFloats(ulong op, CollectiveOpKind kind, int step, int piece, ulong total, ReadOnlyMemory<float> data, WireCompression format) =>
        new() { Op = op, Kind = (uint)kind, Step = (uint)step, Piece = (uint)piece, Total = total, SourceFloats = data, Format = format };

    public static WireFrame ForBytes(ulong op, CollectiveOpKind kind, int step, int piece, ulong total, ReadOnlyMemory<byte> data) =>
        new() { Op = op, Kind = (uint)kind, Step = (uint)step, Piece = (uint)piece, Total = total, SourceBytes = data };

    internal static WireFrame Received(ulong op, uint kind, uint step, uint piece, ulong total, byte[] rented, int length) =>
        new() { Op = op, Kind = kind, Step = step, Piece = piece, Total = total, _rented = rented, DataLength = length };

    /// <summary>An incoming payload already received into the operation's buffer, where its header said it belongs.</summary>
    internal static WireFrame Placed(ulong op, uint kind, uint step, uint piece, ulong total, int length) =>
        new() { Op = op, Kind = kind, Step = step, Piece = piece, Total = total, DataLength = length, IsPlaced = true };

    /// <summary>An incoming payload read in place from a shared-memory slot (the caller holds a mapping reference for it); <paramref name="returnSlot"/> hands the slot back to the sender on release.</summary>
    internal static WireFrame InSharedSlot(ulong op, uint kind, uint step, uint piece, ulong total, SharedSlots slots, int slot, int length, Action<int> returnSlot) =>
        new() { Op = op, Kind = kind, Step = step, Piece = piece, Total = total, _slots = slots, _slot = slot, DataLength = length, _returnSlot = returnSlot };

    /// <summary>Returns the pooled payload buffer; the frame must not be used afterwards.</summary>
    public void Release()
    {
        var rented = Interlocked.Exchange(ref _rented, null);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        var slots = Interlocked.Exchange(ref _slots, null);
        if (slots is not null)
        {
            _returnSlot!(_slot);
            slots.RemoveReference();
        }
    }

    public override string ToString() => Control is { } c ? c.BodyCase.ToString() : $"chunk(op {Op}, kind {Kind}, step {Step}, piece {Piece}, {DataLength} B)";
}
