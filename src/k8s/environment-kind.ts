/**
 * The kind of an environment: what it is for, and the rules that come with it.
 */
export class EnvironmentKind {
  /** Serves users. Exactly one per model; its resources are protected from deletion on targets that support it. */
  public static readonly PRODUCTION = new EnvironmentKind('production');
  /** Pre-production: same machinery as production, any number of them. */
  public static readonly STAGING = new EnvironmentKind('staging');
  /** For iteration: at most one replica, scales to zero, takes no rollout (Baseten's development deployments). */
  public static readonly DEVELOPMENT = new EnvironmentKind('development');

  /** A named environment with staging's rules (`canary-eu`, `shadow`, ...). */
  public static custom(name: string): EnvironmentKind {
    return new EnvironmentKind(name);
  }

  /** The kind an environment name implies: `production`, `staging` and `development` map to their kinds. */
  public static fromName(name: string): EnvironmentKind {
    if (name === 'production') return EnvironmentKind.PRODUCTION;
    if (name === 'staging') return EnvironmentKind.STAGING;
    if (name === 'development') return EnvironmentKind.DEVELOPMENT;
    return EnvironmentKind.custom(name);
  }

  private constructor(
    /** The kind's name. */
    public readonly name: string,
  ) {}

  /** Whether this is the production kind. */
  public get isProduction(): boolean {
    return this === EnvironmentKind.PRODUCTION;
  }

  /** Whether this is the development kind. */
  public get isDevelopment(): boolean {
    return this === EnvironmentKind.DEVELOPMENT;
  }
}
