#!/usr/bin/env python3
# File: scripts/forecast_capacity.py

import pandas as pd
import numpy as np
from datetime import datetime, timedelta

def forecast_capacity_requirements(current_sites, growth_rate_monthly, months_ahead=12):
    """
    Forecast infrastructure capacity requirements based on growth projections

    Args:
        current_sites: Current number of sites
        growth_rate_monthly: Monthly growth rate (e.g., 0.10 for 10% monthly growth)
        months_ahead: Number of months to forecast
    """

    forecast = []

    for month in range(1, months_ahead + 1):
        projected_sites = int(current_sites * ((1 + growth_rate_monthly) ** month))
        projected_traps = projected_sites * 100  # Avg 100 traps per site
        projected_inspections_daily = projected_traps * 10  # 10 inspections per trap per day

        # Calculate required infrastructure
        required_replicas = max(4, int(projected_inspections_daily / 25000) * 4)
        required_cpu_cores = required_replicas * 2.5  # Avg 2.5 cores per replica
        required_memory_gb = required_replicas * 5    # Avg 5GB per replica
        required_db_size_gb = projected_traps * 3     # 3GB per 1000 traps

        monthly_cost = (
            required_cpu_cores * 30 * 0.04 +      # $0.04 per core-hour
            required_memory_gb * 30 * 0.005 +     # $0.005 per GB-hour
            required_db_size_gb * 0.10            # $0.10 per GB-month
        )

        forecast.append({
            'month': month,
            'date': (datetime.now() + timedelta(days=30*month)).strftime('%Y-%m'),
            'sites': projected_sites,
            'traps': projected_traps,
            'inspections_daily': projected_inspections_daily,
            'required_replicas': required_replicas,
            'required_cpu_cores': int(required_cpu_cores),
            'required_memory_gb': int(required_memory_gb),
            'required_db_size_gb': int(required_db_size_gb),
            'monthly_cost_usd': int(monthly_cost)
        })

    df = pd.DataFrame(forecast)
    print(df.to_string(index=False))

    # Identify capacity milestones
    print("\n=== Capacity Milestones ===")
    for idx, row in df.iterrows():
        if row['required_replicas'] > 12 and df.iloc[idx-1]['required_replicas'] <= 12:
            print(f"⚠️  {row['date']}: Upgrade to medium cluster (>12 replicas)")
        if row['required_replicas'] > 24 and df.iloc[idx-1]['required_replicas'] <= 24:
            print(f"⚠️  {row['date']}: Upgrade to large cluster (>24 replicas)")
        if row['required_db_size_gb'] > 500 and df.iloc[idx-1]['required_db_size_gb'] <= 500:
            print(f"⚠️  {row['date']}: Database scaling required (>500GB)")

if __name__ == "__main__":
    # Current state: 100 sites, 10% monthly growth
    forecast_capacity_requirements(
        current_sites=100,
        growth_rate_monthly=0.10,
        months_ahead=12
    )
