//! One migration set for both engines, compiled into the binary.

use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_directory;
mod m0003_organizations;
mod m0004_sector_fields;
mod m0005_proposals;
mod m0006_activities;
mod m0007_saved_filters;
mod m0008_people_counts;
mod m0009_duties;
mod m0010_person_access;
mod m0011_keyed_audit;
mod m0012_two_factor;
mod m0013_audit_archive;
mod m0014_sealed_rows;
mod m0015_activity_tallies;
mod m0016_people_name_birth;
mod m0017_list_indexes;
mod m0018_name_sort;
mod m0019_jobs;
mod m0020_cases;
mod m0021_case_outcomes;
mod m0022_surveys;

pub(crate) use m0015_activity_tallies::FILL_TALLIES;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_directory::Migration),
            Box::new(m0003_organizations::Migration),
            Box::new(m0004_sector_fields::Migration),
            Box::new(m0005_proposals::Migration),
            Box::new(m0006_activities::Migration),
            Box::new(m0007_saved_filters::Migration),
            Box::new(m0008_people_counts::Migration),
            Box::new(m0009_duties::Migration),
            Box::new(m0010_person_access::Migration),
            Box::new(m0011_keyed_audit::Migration),
            Box::new(m0012_two_factor::Migration),
            Box::new(m0013_audit_archive::Migration),
            Box::new(m0014_sealed_rows::Migration),
            Box::new(m0015_activity_tallies::Migration),
            Box::new(m0016_people_name_birth::Migration),
            Box::new(m0017_list_indexes::Migration),
            Box::new(m0018_name_sort::Migration),
            Box::new(m0019_jobs::Migration),
            Box::new(m0020_cases::Migration),
            Box::new(m0021_case_outcomes::Migration),
            Box::new(m0022_surveys::Migration),
        ]
    }
}
