// Every provisioned dashboard, written to grafana/dashboards/<uid>.json by `make generate`.
import { chainDashboard } from './chain.ts';
import { overview } from './overview.ts';
import { poolsDashboard } from './pools.ts';
import { sloDashboard } from './slos.ts';

export const dashboards = [overview, poolsDashboard, chainDashboard, sloDashboard];
