using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using Plateau.Collective.Transport;
using Plateau.Collective.Transport.Sockets;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Ring;

/// <summary>
/// One authenticated Exchange call to the ring predecessor (left neighbour), on its own HTTP/2
/// connection (one channel per stream, so several streams really are several TCP connections). The
/// predecessor streams data down the response stream (Kestrel's send path and HttpClient's download
/// path are the fast directions of the .NET HTTP/2 stacks); the request stream carries only control
/// frames (aborts) upwards. Received pieces wait in a small bounded queue for the operation, so a
/// rank busy elsewhere turns into HTTP/2 back-pressure rather than buffered gigabytes.
/// When the Welcome offers a data socket, chunks arrive on it instead, read by a dedicated thread in
/// blocking calls (as Gloo does: no thread-pool hops per piece); back-pressure is then TCP's.
/// </summary>
internal sealed class UpstreamLink : IAsyncDisposable
{
    /// <summary>Pieces a stream may hold ahead of the operation reading them.</summary>
    public const int QueueCapacity = 8;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);
    private readonly CollectiveGroup _group;
    private readonly GrpcChannel _channel;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private AsyncDuplexStreamingCall<WireFrame, WireFrame>? _call;
    private Task _responseLoop = Task.CompletedTask;
    private Socket? _dataSocket;
    private Thread? _dataReader;
    private SharedSlots? _slots;
    private readonly Lock _slotReturnLock = new();
    private readonly Channel<WireFrame> _frames = Channel.CreateBounded<WireFrame>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = false, // the operation, and DisposeAsync returning leftovers
        SingleWriter = false,
        // The operation's receive loop resumes on the thread that queued the piece (the socket
        // reader or the gRPC response loop): one thread-pool hop less per piece.
        AllowSynchronousContinuations = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    public UpstreamLink(CollectiveGroup group, RingOptions options, int streamIndex)
    {
        _group = group;
        StreamIndex = streamIndex;
        PeerRank = group.LeftRank;
        PeerAddress = options.AddressOf(PeerRank);
        var handler = new SocketsHttpHandler
        {
            // Data arrives on this connection: a window of many pieces keeps the sender streaming.
            InitialHttp2StreamWindowSize = CollectiveServerOptions.DefaultStreamWindowBytes,
            KeepAlivePingDelay = PeerLiveness.PingDelay(group.Registry.Options.PeerTimeout),
            KeepAlivePingTimeout = PeerLiveness.PingTimeout(group.Registry.Options.PeerTimeout),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        if (options.TrustedCertificatePath is { } trusted)
        {
            var anchor = X509CertificateLoader.LoadCertificateFromFile(trusted);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => TrustsPeer(anchor, certificate, errors),
            };
        }
        _channel = GrpcChannel.ForAddress(PeerAddress, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxSendMessageSize = CollectiveServerOptions.DefaultMaxMessageBytes,
            MaxReceiveMessageSize = CollectiveServerOptions.DefaultMaxMessageBytes,
            MaxRetryAttempts = 0,
        });
    }

    public int StreamIndex { get; }

    public int PeerRank { get; }

    public string PeerAddress { get; }

    public ChannelReader<WireFrame> Frames => _frames.Reader;

    /// <summary>Completes when the gRPC stream (the control channel: aborts, goodbyes) has ended or broken and its last frame was handled.</summary>
    public Task ControlStreamEnded => _responseLoop;

    /// <summary>Whether chunks arrive on a raw data socket rather than the gRPC stream.</summary>
    public bool HasDataSocket => _dataSocket is not null;

    public bool UsesSharedMemory => _slots is not null;

    /// <summary>Opens the stream and completes the Hello/Welcome handshake, retrying while the peer is not up yet.</summary>
    public async Task ConnectAsync(RingOptions options, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var call = _channel.CreateCallInvoker().AsyncDuplexStreamingCall(WireFrameMarshaller.ExchangeMethod, null, new CallOptions(cancellationToken: _lifetime.Token));
            var hello = PeerAuthenticator.CreateHello(options, PeerRank, StreamIndex, DateTimeOffset.UtcNow);
            try
            {
                try
                {
                    await call.RequestStream.WriteAsync(WireFrame.ForControl(new PeerFrame { Hello = hello }), cancellationToken);
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException)
                {
                    // The server refused before reading; the status comes with the response below.
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var remaining = deadline - DateTimeOffset.UtcNow;
                wait.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
                if (!await call.ResponseStream.MoveNext(wait.Token))
                {
                    throw new CollectiveException($"rank {PeerRank} ({PeerAddress}) closed stream {StreamIndex} without a Welcome", PeerRank, PeerAddress);
                }
                if (call.ResponseStream.Current.Control?.Welcome is not { } welcome ||
                    !PeerAuthenticator.WelcomeIsAuthentic(options.Secret, options.JobId, options.Generation, PeerRank, hello, welcome))
                {
                    throw new CollectiveException($"rank {PeerRank} ({PeerAddress}) answered with a Welcome that does not verify: it does not hold this job's secret", PeerRank, PeerAddress);
                }
                if (welcome.DataPort != 0)
                {
                    await ConnectDataSocketAsync(options, welcome, deadline, cancellationToken);
                }
                _call = call;
                _responseLoop = Task.Run(ResponseLoopAsync, CancellationToken.None);
                if (_dataSocket is not null)
                {
                    _dataReader = new Thread(DataReadLoop) { IsBackground = true, Name = $"plateau-collective-recv-{options.Rank}.{StreamIndex}" };
                    _dataReader.Start();
                }
                return;
            }
            catch (RpcException ex) when (IsRetryable(ex.StatusCode) && DateTimeOffset.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                call.Dispose();
                CollectiveLog.ConnectRetry(_group.Logger, options.JobId, options.Generation, options.Rank, PeerRank, ex.Status.Detail);
                await Task.Delay(RetryDelay, cancellationToken);
            }
            catch (RpcException ex) when (IsRetryable(ex.StatusCode))
            {
                call.Dispose();
                throw new CollectiveException($"rank {PeerRank} ({PeerAddress}) did not accept rank {options.Rank}'s stream within {options.ConnectTimeout.TotalSeconds:0.#} s: {ex.Status.Detail}", PeerRank, PeerAddress, ex);
            }
            catch (RpcException ex)
            {
                call.Dispose();
                throw new CollectiveException($"rank {PeerRank} ({PeerAddress}) refused rank {options.Rank}'s stream: {ex.StatusCode}: {ex.Status.Detail}", PeerRank, PeerAddress, ex);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                call.Dispose();
                throw new CollectiveException($"rank {PeerRank} ({PeerAddress}) did not answer rank {options.Rank}'s Hello within {options.ConnectTimeout.TotalSeconds:0.#} s", PeerRank, PeerAddress, ex);
            }
            catch
            {
                call.Dispose();
                throw;
            }
        }
    }

    /// <summary>Opens the data socket the Welcome offered and proves the token; blocking calls only, so the socket stays in blocking mode for the reader thread.</summary>
    private async Task ConnectDataSocketAsync(RingOptions options, Welcome welcome, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var host = new Uri(PeerAddress).Host;
        var addresses = IPAddress.TryParse(host, out var ip) ? [ip] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var endpoint = new IPEndPoint(addresses[0], welcome.DataPort);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            DataSockets.Configure(socket, _group.Registry.Options.DataSocketBufferBytes, _group.Registry.Options.PeerTimeout);
            var remaining = deadline - DateTimeOffset.UtcNow;
            var wait = remaining > TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1);
            var token = welcome.DataToken.ToByteArray();
            var preamble = new byte[DataSockets.PreambleBytes];
            BinaryPrimitives.WriteUInt32LittleEndian(preamble, DataSockets.Magic);
            token.CopyTo(preamble, 4);
            PeerAuthenticator.DataSocketMac(options.Secret, options.JobId, options.Generation, options.Rank, StreamIndex, token).CopyTo(preamble, 4 + token.Length);
            await Task.Run(() =>
            {
                socket.Connect(endpoint);
                socket.Send(preamble);
                socket.ReceiveTimeout = (int)wait.TotalMilliseconds;
                var ack = new byte[1];
                if (!DataSockets.ReceiveExactly(socket, ack) || ack[0] != DataSockets.Accepted)
                {
                    throw new IOException("the data connection was closed instead of acknowledged");
                }
                _slots = SharedMemoryOffer.Offer(socket, options.SharedMemory, options.ChunkBytes);
                socket.ReceiveTimeout = 0; // stalls are the control stream's PINGs' and the operation deadline's job
            }, cancellationToken).WaitAsync(wait, cancellationToken);
            _dataSocket = socket;
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            socket.Dispose();
            throw new CollectiveException($"rank {PeerRank} ({PeerAddress}) offered a data socket on port {welcome.DataPort} but rank {options.Rank} could not open it: {ex.Message}", PeerRank, PeerAddress, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Dedicated thread: blocking reads of header + payload into a pooled buffer, handed to the operation through the bounded queue.</summary>
    private void DataReadLoop()
    {
        var socket = _dataSocket!;
        var token = _lifetime.Token;
        Span<byte> header = stackalloc byte[DataFrameHeader.Bytes];
        try
        {
            while (true)
            {
                if (!DataSockets.ReceiveExactly(socket, header))
                {
                    // A clean end: the peer left or died. Its control stream reports which (a
                    // goodbye travels there first); pieces already queued stay readable.
                    _frames.Writer.TryComplete();
                    return;
                }
                var (length, kind, op, step, piece, total, slot) = DataFrameHeader.Read(header);
                if (length < 0 || length > CollectiveServerOptions.DefaultMaxMessageBytes)
                {
                    throw new InvalidDataException($"data frame of {length} bytes (limit {CollectiveServerOptions.DefaultMaxMessageBytes})");
                }
                if (slot != DataFrameHeader.Inline)
                {
                    Queue(InSharedSlot(op, kind, step, piece, total, slot, length), token);
                    continue;
                }
                if (_group.Placement is { } placement && placement.TryPlace(op, kind, step, piece, total, length, StreamIndex, out var destination))
                {
                    ReceivePayload(socket, destination);
                    _group.CountPlacedPiece();
                    Queue(WireFrame.Placed(op, kind, step, piece, total, length), token);
                    continue;
                }
                var rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                try
                {
                    ReceivePayload(socket, rented.AsSpan(0, length));
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(rented);
                    throw;
                }
                Queue(WireFrame.Received(op, kind, step, piece, total, rented, length), token);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException or InvalidDataException or OperationCanceledException or ChannelClosedException)
        {
            if (!token.IsCancellationRequested)
            {
                // A reset is no proof of death: a peer closing its links after it failed on another rank's
                // verdict resets a socket with unread bytes too. Its abort, sent before the close, is on the
                // control stream, a separate connection: hear it out before blaming the peer.
                _ = _group.LinkLostAfterControlAsync(PeerRank, $"data connection to rank {PeerRank} ({PeerAddress}) lost: {ex.Message}", ex, _responseLoop);
            }
        }
        _frames.Writer.TryComplete();
    }

    private static void ReceivePayload(Socket socket, Span<byte> payload)
    {
        if (!DataSockets.ReceiveExactly(socket, payload) && payload.Length > 0)
        {
            throw new IOException($"connection closed after a frame header, before its {payload.Length}-byte payload");
        }
    }

    /// <summary>Best effort: control frames (abort, goodbye) must never block a failing rank for long.</summary>
    private void Queue(WireFrame frame, CancellationToken token)
    {
        if (!_frames.Writer.TryWrite(frame))
        {
            try
            {
                // Queue full: this rank is busy; block here and let TCP (or the slot credits) push back on the sender.
                _frames.Writer.WriteAsync(frame, token).AsTask().GetAwaiter().GetResult();
            }
            catch
            {
                frame.Release();
                throw;
            }
        }
    }

    private WireFrame InSharedSlot(ulong op, uint kind, uint step, uint piece, ulong total, int slot, int length)
    {
        var slots = _slots ?? throw new InvalidDataException($"data frame in shared-memory slot {slot}, but no slot file is mapped");
        if (slot < 0 || slot >= slots.SlotCount || length > slots.SlotBytes)
        {
            throw new InvalidDataException($"data frame of {length} bytes in shared-memory slot {slot} (the file has {slots.SlotCount} slots of {slots.SlotBytes} bytes)");
        }
        if (!slots.TryAddReference())
        {
            throw new ObjectDisposedException(nameof(SharedSlots), "the shared-memory slots were released while pieces still arrived");
        }
        return WireFrame.InSharedSlot(op, kind, step, piece, total, slots, slot, length, ReturnSlot);
    }

    /// <summary>Hands a read slot back to the sender (one byte on the data socket's otherwise idle direction).</summary>
    private void ReturnSlot(int slot)
    {
        lock (_slotReturnLock)
        {
            try
            {
                _dataSocket?.Send([(byte)slot]);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The link is gone; its loss is reported by the reader and the control stream.
            }
        }
    }

    public Task TrySendControlAsync(PeerFrame control, TimeSpan timeout) =>
        _call is null ? Task.CompletedTask : ControlFrames.TrySendAsync(_writeLock, _call.RequestStream, control, timeout);

    private async Task ResponseLoopAsync()
    {
        var token = _lifetime.Token;
        try
        {
            while (await _call!.ResponseStream.MoveNext(CancellationToken.None))
            {
                var frame = _call.ResponseStream.Current;
                if (frame.IsChunk)
                {
                    try
                    {
                        await _frames.Writer.WriteAsync(frame, token);
                    }
                    catch
                    {
                        frame.Release();
                        throw;
                    }
                }
                else if (frame.Control?.Abort is { } abort)
                {
                    _group.OnAbortFrame(abort);
                }
            }
            _group.LinkEnded(PeerRank, $"rank {PeerRank} ({PeerAddress}) closed its stream");
        }
        catch (Exception ex) when (ex is RpcException or IOException or OperationCanceledException or InvalidOperationException)
        {
            if (!token.IsCancellationRequested)
            {
                _group.LinkLost(PeerRank, $"connection to rank {PeerRank} ({PeerAddress}) lost: {Describe(ex)}", ex);
            }
        }
        finally
        {
            // Queued pieces stay readable (a leaver's last data); DisposeAsync returns what is left.
            // With a data socket the chunks are the reader thread's: it completes the queue.
            if (_dataSocket is null)
            {
                _frames.Writer.TryComplete();
            }
        }
    }

    private void ReleaseQueued()
    {
        while (_frames.Reader.TryRead(out var left))
        {
            left.Release();
        }
    }

    private static string Describe(Exception ex) => ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message;

    private static bool IsRetryable(StatusCode code) => code is StatusCode.Unavailable;

    private static bool TrustsPeer(X509Certificate2 anchor, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null)
        {
            return false;
        }
        using var certificate = new X509Certificate2(presented);
        if (certificate.Thumbprint == anchor.Thumbprint)
        {
            return true; // pinned (self-signed) peer certificate
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(anchor);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <summary>Simulates a crash (tests): resets the stream without a goodbye.</summary>
    public void Kill()
    {
        _lifetime.Cancel();
        if (_dataSocket is { } socket)
        {
            DataSockets.Reset(socket);
        }
        _call?.Dispose();
        _channel.Dispose();
        _frames.Writer.TryComplete();
        ReleaseQueued();
        _slots?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_call is { } call)
        {
            try
            {
                await _writeLock.WaitAsync(TimeSpan.FromSeconds(1));
                await call.RequestStream.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(1));
                // Let the peer read everything (a goodbye abort included) and end the call itself:
                // resetting the stream now could discard frames it has not consumed yet.
                await _responseLoop.WaitAsync(TimeSpan.FromSeconds(1));
            }
            catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or TimeoutException or OperationCanceledException)
            {
                // Already broken or slow: the reset below ends it.
            }
        }
        _lifetime.Cancel();
        _call?.Dispose();
        _dataSocket?.Dispose(); // unblocks the reader thread
        _dataReader?.Join(TimeSpan.FromSeconds(2));
        _frames.Writer.TryComplete();
        try
        {
            await _responseLoop.WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (TimeoutException)
        {
            // The loop ends once the channel is disposed below.
        }
        _channel.Dispose();
        _lifetime.Dispose();
        ReleaseQueued();
        _slots?.Dispose(); // unmapped once the last piece an operation still holds is released
    }
}
