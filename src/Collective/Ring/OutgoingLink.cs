using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Plateau.Collective.Transport;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Ring;

/// <summary>
/// One authenticated Exchange stream to the ring successor, on its own HTTP/2 connection (one
/// channel per stream, so several streams really are several TCP connections). Data goes out on the
/// request stream; aborts arrive on the response stream.
/// </summary>
internal sealed class OutgoingLink : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);
    private readonly CollectiveGroup _group;
    private readonly GrpcChannel _channel;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private AsyncDuplexStreamingCall<WireFrame, WireFrame>? _call;
    private Task _responseLoop = Task.CompletedTask;

    public OutgoingLink(CollectiveGroup group, RingOptions options, int streamIndex)
    {
        _group = group;
        StreamIndex = streamIndex;
        PeerRank = group.RightRank;
        PeerAddress = options.AddressOf(PeerRank);
        var handler = new SocketsHttpHandler
        {
            // Only control frames come back on this connection; the server's window matters for data.
            InitialHttp2StreamWindowSize = 1 << 20,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
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
                _call = call;
                _responseLoop = Task.Run(ResponseLoopAsync, CancellationToken.None);
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

    /// <summary>Sends one data frame. The write itself is not cancellable (a cancelled write resets the stream and would make the peer blame this rank); the caller stops issuing writes once its token fires.</summary>
    public async Task WriteAsync(WireFrame frame, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            await _call!.RequestStream.WriteAsync(frame, CancellationToken.None);
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException)
        {
            throw _group.LinkLost(PeerRank, $"sending to rank {PeerRank} ({PeerAddress}) failed: {ex.Message}", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Best effort: control frames (abort, goodbye) must never block a failing rank for long.</summary>
    public async Task TrySendControlAsync(PeerFrame control, TimeSpan timeout)
    {
        if (_call is null)
        {
            return;
        }
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _writeLock.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            await _call.RequestStream.WriteAsync(WireFrame.ForControl(control), CancellationToken.None).WaitAsync(cts.Token);
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or OperationCanceledException or TimeoutException)
        {
            // The link is already gone; the abort travels the other way round the ring too.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ResponseLoopAsync()
    {
        try
        {
            while (await _call!.ResponseStream.MoveNext(CancellationToken.None))
            {
                if (_call.ResponseStream.Current.Control?.Abort is { } abort)
                {
                    _group.OnAbortFrame(abort);
                }
            }
            _group.LinkLost(PeerRank, $"rank {PeerRank} ({PeerAddress}) closed its stream", null);
        }
        catch (Exception ex) when (ex is RpcException or IOException or OperationCanceledException or InvalidOperationException)
        {
            _group.LinkLost(PeerRank, $"connection to rank {PeerRank} ({PeerAddress}) lost: {Describe(ex)}", ex);
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
        _call?.Dispose();
        _channel.Dispose();
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
    }
}
