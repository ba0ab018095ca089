using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Plateau.ServiceDefaults;
using Plateau.Worker.Hosting;

// A worker process: configuration from appsettings.json, PLATEAU_… environment variables or
// --Plateau:Worker:JobId=job-1 style arguments.
var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddEnvironmentVariables("PLATEAU_");
await builder.AddServiceDefaults().AddPlateauWorker().Build().RunAsync();
