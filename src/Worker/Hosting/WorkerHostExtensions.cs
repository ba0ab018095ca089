using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Resources;
using Orleans.Configuration;
using Plateau.Cluster;
using Plateau.Models.Runtime;
using Plateau.ServiceDefaults;
using Plateau.Worker.Checkpointing;
using Plateau.Worker.Training;

namespace Plateau.Worker.Hosting;

public static class WorkerHostExtensions
{
    /// <summary>A worker on its own joins a coordinator on this machine at the coordinator's default silo port.</summary>
    public static readonly IReadOnlyDictionary<string, string?> WorkerDefaults = new Dictionary<string, string?>
    {
        ["Plateau:Cluster:SiloPort"] = "11112",
        ["Plateau:Cluster:GatewayPort"] = "0",
        ["Plateau:Cluster:PrimarySiloEndpoint"] = "127.0.0.1:11111",
        ["Plateau:Worker:WorkerId"] = "worker-0",
    };

    /// <summary>
    /// A worker process: an Orleans silo in the Plateau cluster (<c>Plateau:Cluster</c>) hosting one
    /// WorkerGrain per device, the collective endpoints, and the registrar that joins the job named by
    /// <c>Plateau:Worker:JobId</c>, or (without it) the jobs the coordinator's worker pool hands it. Settings are
    /// validated before anything starts; libtorch gets its share of the cores (<c>Plateau:Worker:Threads</c>, default cores / devices).
    /// </summary>
    public static HostApplicationBuilder AddPlateauWorker(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        // Worker defaults sit below every other source (appsettings, PLATEAU_ variables, arguments). They
        // cannot live in appsettings.json: the single plateau binary carries both hosts, and a file of that
        // name from one role would configure the other.
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = WorkerDefaults });
        var worker = configuration.GetSection(WorkerOptions.SectionName).Get<WorkerOptions>() ?? new WorkerOptions();
        var problems = new WorkerOptionsValidator().Validate(null, worker);
        if (problems.Failed)
        {
            throw new OptionsValidationException(WorkerOptions.SectionName, typeof(WorkerOptions), problems.Failures);
        }

        TrainingProcess.Initialise(worker.Threads > 0 ? worker.Threads : Math.Max(1, Environment.ProcessorCount / worker.Devices));
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>());
        builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource
            .AddService("plateau-worker", serviceInstanceId: worker.WorkerId)
            .AddAttributes(string.IsNullOrEmpty(worker.JobId)
                ? [new("host.name", Environment.MachineName), new("plateau.device_kind", worker.DeviceKind)] // pooled: no one job
                : [new("host.name", Environment.MachineName), new("plateau.job_id", worker.JobId), new("plateau.device_kind", worker.DeviceKind)]));
        builder.Services.AddSingleton<WorkerDataPlane>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerDataPlane>());
        builder.Services.AddHealthChecks()
            .AddCheck<DataPlaneHealthCheck>(DataPlaneHealthCheck.Name)
            .AddCheck<SiloActiveHealthCheck>(SiloActiveHealthCheck.Name);
        if (worker.HealthPort != 0)
        {
            builder.AddHealthEndpoint(worker.DataPlaneListenHost == "localhost" ? "127.0.0.1" : worker.DataPlaneListenHost, worker.HealthPort);
        }

        builder.Services.AddSingleton<TrainingDataCache>();
        builder.Services.AddSingleton<ICheckpointTransport>(sp => string.IsNullOrEmpty(worker.CheckpointTransferAddress)
            ? new SharedStoreTransport()
            : new NetworkTransport(new Uri(worker.CheckpointTransferAddress), Path.Combine(Path.GetTempPath(), "plateau-checkpoints", worker.WorkerId),
                sp.GetRequiredService<ILogger<NetworkTransport>>()));
        builder.Services.AddSingleton<WorkerDevices>();
        builder.Services.AddSingleton<WorkerRegistrar>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerRegistrar>());
        builder.UseOrleans(silo => silo
            .UsePlateauCluster(configuration)
            .Configure<SiloOptions>(o => o.SiloName = worker.WorkerId)
            .Configure<GrainTypeOptions>(o => HostOnlyWorkerGrains(o)));
        return builder;
    }

    /// <summary>A worker silo hosts WorkerGrains only, even when the process also carries the coordinator's
    /// grain classes (the single <c>plateau</c> binary): job grains must never be placed on a worker.</summary>
    public static void HostOnlyWorkerGrains(GrainTypeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var workerAssembly = typeof(WorkerHostExtensions).Assembly;
        options.Classes.RemoveWhere(t => t.Namespace?.StartsWith("Plateau.", StringComparison.Ordinal) == true && t.Assembly != workerAssembly);
    }

    /// <summary>The other half: a coordinator silo in the same binary never hosts a WorkerGrain.</summary>
    public static void HostNoWorkerGrains(GrainTypeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var workerAssembly = typeof(WorkerHostExtensions).Assembly;
        options.Classes.RemoveWhere(t => t.Assembly == workerAssembly);
    }
}
